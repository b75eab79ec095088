"""Nothing a server sends can restructure or run in what people read: report.md keeps its structure under a
CommonMark parser whatever the server's text, no report carries a raw control byte, terminal lines show control
characters as escapes and never read data as Rich markup, and legal JSON with lone surrogates is written and
printed without a crash. The hostile texts are SYNTHETIC."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from conformance.cli import main
from conformance.report.write import render_markdown, write_reports
from tests.conftest import REPO

COMMITTED = REPO / "reports" / "llamacpp" / "report.json"
HOSTILE = ("\n\n# All checks passed\n\n<!-- hide the rest\n``` \n<script>alert(1)</script> [click](javascript:alert(1))"
           " \x1b[2J\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \x1b]52;c;aGVsbG8=\x07 | pipe ` tick \ud800")


def _with_text(report: dict[str, Any], text: str) -> dict[str, Any]:
    """The report with every server-controlled text replaced by ``text`` (the benign twin uses plain words)."""
    changed = copy.deepcopy(report)
    for result in changed["results"]:
        result["reason"] = "server said: " + text
        for finding in result["findings"]:
            finding["message"] = text
            finding["seen"] = text
            finding["pointer"] = "/choices/0/" + text
        for exchange in [result.get("exchange"), *(s.get("exchange") for s in result.get("steps", []))]:
            if exchange:
                exchange["response_body"] = text
    return changed


def _hostile(report: dict[str, Any]) -> dict[str, Any]:
    return _with_text(report, HOSTILE)


def _structure(markdown: str) -> list[tuple[str, str]]:
    parser = MarkdownIt("commonmark").enable("table")
    shape = []
    for token in parser.parse(markdown):
        if token.type in ("heading_open", "table_open", "fence", "html_block", "bullet_list_open"):
            shape.append((token.type, token.tag))
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("link_open", "html_inline", "image"):
                    shape.append((child.type, child.attrs.get("href", "") if child.attrs else child.content))
    return shape


def test_hostile_server_text_leaves_report_md_structure_unchanged() -> None:
    report = json.loads(COMMITTED.read_text())
    benign, hostile = render_markdown(_with_text(report, "plain words")), render_markdown(_hostile(report))
    assert _structure(hostile) == _structure(benign)
    assert "javascript:" not in [href for kind, href in _structure(hostile) if kind == "link_open"]


def test_no_report_file_carries_a_raw_control_byte_and_a_lone_surrogate_is_written(tmp_path: Path) -> None:
    report = _hostile(json.loads(COMMITTED.read_text()))
    paths = write_reports(report, tmp_path)
    for path in paths:
        data = path.read_bytes()
        assert b"\x1b" not in data and b"\x07" not in data, path.name
        data.decode("utf-8")  # every file is valid UTF-8
    reloaded = json.loads((tmp_path / "report.json").read_text())
    assert reloaded["results"][0]["reason"].endswith("\ud800")  # the JSON escape says what the server sent


def test_diff_prints_markup_and_escape_sequences_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(COMMITTED.read_text())
    changed = copy.deepcopy(report)
    first = changed["results"][0]
    first["verdict"] = "FAIL"
    first["findings"].append({"check": "chat.choices.present", "pointer": "/[red]x[/] [/bold] \x1b]52;c;aGVsbG8=\x07",
                              "message": "m", "severity": "failure", "expected": None, "seen": None, "event": None,
                              "known_gap": None, "nature": "contract"})
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(report))
    b.write_text(json.dumps(changed))
    code = main(["diff", str(a), str(b)])
    out = capsys.readouterr().out
    assert code == 1  # a real regression (a new finding, a worse verdict), not a crash
    assert "[red]x[/] [/bold]" in out and "\x1b" not in out and "\\x1b]52;c;aGVsbG8=\\x07" in out


def test_validate_shows_control_characters_and_survives_a_lone_surrogate(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    body = {"error": {"message": "bad \x1b[2J request \ud800", "type": "invalid_request_error", "param": None,
                      "code": None}}
    path = tmp_path / "error.json"
    path.write_text(json.dumps(body))  # json.dumps writes both as \u escapes: legal JSON
    code = main(["validate", "--kind", "error", str(path)])
    captured = capsys.readouterr()
    # The lone surrogate is not text (json.strict): a finding, so exit 1, and no crash.
    assert code == 1 and "Traceback" not in captured.err and "json.strict" in captured.out
    assert "\x1b" not in captured.out + captured.err
