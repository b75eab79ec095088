"""Hostile text and inputs: a key that is not one token, a profile or manifest that holds HTML or the key, server
text with bidi controls, reports merged from a hostile report.json, oversized and endless inputs read within bounds
before anything else, and links that could run code. Servers here are the SYNTHETIC stand-in, on loopback."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin.server import Reply, running

COMMITTED = REPO / "reports" / "llamacpp" / "report.json"
BIDI = "\u202e"


def _html_in_markdown(text: str) -> list[str]:
    """The raw HTML a CommonMark renderer would pass through (a code span's text is not HTML), other than the
    report's own <br> and <details>/<summary> markup."""
    from markdown_it import MarkdownIt

    own = ("<br>", "<details>", "</details>", "<summary>", "</summary>", "<code>", "</code>")
    found = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        for child in [token, *(token.children or [])]:
            if child.type in ("html_inline", "html_block") and not any(
                    child.content.strip().startswith(o) for o in own):
                found.append(child.content)
    return found


def _links(text: str) -> list[str]:
    """Every link target a CommonMark renderer would make of ``text``."""
    from markdown_it import MarkdownIt

    return [str(child.attrs.get("href")) for token in MarkdownIt("commonmark").enable("table").parse(text)
            for child in token.children or [] if child.type == "link_open"]


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_a_key_with_a_line_break_is_refused_without_being_shown(tmp_path: Path) -> None:
    key = "sk-first-half-123456\nsecond-half-abcdef"
    result = conformance("run", "--target", PROFILE, "--record-mode", "once", "--cassette-dir", str(tmp_path / "c"),
                         "--report-dir", str(tmp_path / "r"), key=key)
    assert result.returncode == 2 and "line break or a control character" in result.stderr
    assert "first-half" not in result.stderr + result.stdout and "second-half" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_command_that_prints_a_nul_is_a_usage_error(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text((REPO / "tests" / "standin" / "standin.toml").read_text().replace(
        'api_key_env = "CONFORMANCE_STANDIN_KEY"',
        'api_key_env = "NO_SUCH_VARIABLE_SET"\napi_key_command = "printf \'sk-abc\\\\000def\'"'))
    result = conformance("run", "--target", str(profile), "--record-mode", "once", "--cassette-dir",
                         str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "control character" in result.stderr


def test_a_profile_that_holds_the_key_or_html_keeps_both_out_of_the_reports(tmp_path: Path, canary_key: str) -> None:
    profile = tmp_path / "p.toml"
    gaps = tmp_path / "g.toml"
    gaps.write_text('[[gap]]\nid = "x"\ncheck = "chat.choices.count"\nreason = "<script>alert(1)</script> \u202e"\n'
                    'source = "javascript:alert(1)"\n')
    with running(canary_key) as server:
        profile.write_text((REPO / "tests" / "standin" / "standin.toml").read_text().replace(
            'description = "SYNTHETIC stand-in server (tests only, not a real provider)"',
            f'description = "my key is {canary_key} <img src=x onerror=alert(1)> [x](javascript:alert(1))"')
            .replace("http://127.0.0.1:9/v1/", server.base_url))
        result = conformance("run", "--target", str(profile), "--record-mode", "once",
                             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
                             "--gaps", str(gaps), "--surfaces", "rest", "-k", "chat.system_user", key=canary_key)
    assert result.returncode == 0, result.stderr
    written = _all_text(tmp_path / "r")
    assert canary_key not in written
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert _html_in_markdown(markdown) == [] and not [h for h in _links(markdown) if not h.startswith("http")]
    assert BIDI not in written
    html = (tmp_path / "r" / "report.html").read_text()
    assert 'href="javascript:' not in html and "<img src=x" not in html


def test_a_saved_case_with_a_javascript_link_is_not_a_live_link(tmp_path: Path) -> None:
    from conformance.report.write import render_html, render_markdown

    report = json.loads(COMMITTED.read_text())
    for result in report["results"]:
        result["section"] = "javascript:alert(document.cookie)"
        result["title"] = "<img src=x onerror=alert(1)>"
    html, markdown = render_html(report), render_markdown(report)
    assert "javascript:" not in html and "<img src=x" not in html
    assert not [h for h in _links(markdown) if not h.startswith("http")] and _html_in_markdown(markdown) == []


def test_a_hostile_report_gives_matrices_without_html_or_raw_controls(tmp_path: Path) -> None:
    from conformance.cli import main

    report = json.loads(COMMITTED.read_text())
    report["target"]["name"] = "evil<img src=x onerror=alert(1)>\x1b[2J"
    for result in report["results"][:8]:
        result["case"] = "case`|<b>bold</b>\x1b]52;c;AAAA\x07" + BIDI
        result["feature"] = "<script>alert(1)</script>\n| broken | row |"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(report))
    assert main(["report", str(COMMITTED), str(hostile), "--out", str(tmp_path / "m")]) == 0
    markdown = (tmp_path / "m" / "matrix.md").read_text()
    html = (tmp_path / "m" / "matrix.html").read_text()
    for text in (markdown, html):
        assert "\x1b" not in text and "\x07" not in text and BIDI not in text
    assert _html_in_markdown(markdown) == [] and "<img" not in html and "<script>" not in html
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len({line.count("|") - line.count("\\|") for line in rows}) == 1  # no row broken by a '|' or newline


def test_the_diff_summary_keeps_hostile_pointers_as_text(tmp_path: Path) -> None:
    from conformance.cli import main

    baseline = json.loads(COMMITTED.read_text())
    current = json.loads(COMMITTED.read_text())
    current["results"][0]["findings"].append({"check": "schema.chat.completion", "message": "m",
                                              "pointer": "/<img src=x onerror=alert(1)>/\x1b[31m" + BIDI + "|x|",
                                              "severity": "deviation", "expected": None, "seen": None,
                                              "event": None, "known_gap": None, "nature": "contract"})
    (tmp_path / "b.json").write_text(json.dumps(baseline))
    (tmp_path / "c.json").write_text(json.dumps(current))
    assert main(["diff", str(tmp_path / "b.json"), str(tmp_path / "c.json"), "--markdown",
                 str(tmp_path / "d.md")]) == 1
    text = (tmp_path / "d.md").read_text()
    assert _html_in_markdown(text) == [] and "\x1b" not in text and BIDI not in text and "\\u202e" in text


def test_validate_refuses_an_oversized_file_before_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:  # a sparse 2 GB file: costs no disk, and would cost 2 GB of memory if read
        handle.write(b"{" + b" " * 8191)
        handle.truncate(2_000_000_000)
    started = time.monotonic()
    result = conformance("validate", str(big))
    assert result.returncode == 2 and "larger than 64 MB" in result.stderr
    assert time.monotonic() - started < 5


def test_the_proxy_reads_no_body_for_an_unknown_route_and_refuses_a_signed_chunk_size(canary_key: str) -> None:
    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import RecordingProxy
    from conformance.wire.scrub import Scrubber

    with running(canary_key) as server, RecordingProxy(server.base_url, {}, {}, Capture(Scrubber([canary_key])),
                                                       timeout_s=10, port=0) as proxy:
        port = int(proxy.base_url.split(":")[2].split("/")[0])
        route = "/" + proxy.base_url.split("/", 3)[3]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"POST /not-the-token/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n" + b"4000000\r\n")  # 64 MB announced, none sent
            answer = b""
            while chunk := raw.recv(4096):  # the proxy answers and closes: read to the end
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 404") and b"no_such_route" in answer
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(f"POST {route}chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                        + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n")
            raw.settimeout(10)
            closed = raw.recv(4096)
        assert closed == b""  # the connection is closed, nothing is read to the end of the stream
    assert server.requests == []


def test_a_baseline_path_that_is_a_dangling_link_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "target.json"
    link = tmp_path / "project" / "baseline.json"
    link.parent.mkdir()
    link.symlink_to(outside)
    result = conformance("run", "--target", "llamacpp", "-k", "chat.system_user", "--report-dir",
                         str(tmp_path / "r"), "--baseline", str(link))
    assert result.returncode == 2 and "symbolic link" in result.stderr
    assert not outside.exists() and not (tmp_path / "r").exists()


def test_a_too_deep_answer_is_a_reason_without_a_python_exception_name(tmp_path: Path, canary_key: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000

    def nested(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        return Reply(200, raw=deep.encode(), headers={"content-type": "application/json"}) \
            if path.endswith("/chat/completions") else reply

    with running(canary_key) as server:
        server.mutations.append(nested)
        result = conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--record-mode", "once",
                             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
                             "--surfaces", "rest,python-sdk", "-k", "chat.system_user", key=canary_key)
    assert result.returncode == 1, result.stderr
    rows = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
    assert {r["verdict"] for r in rows} == {"ERROR"}
    assert not any("RecursionError" in r["reason"] for r in rows), [r["reason"] for r in rows]


@pytest.mark.parametrize("name, body, content_type", [
    ("tool calls without index", '{"choices":[{"message":{"tool_calls":['
     + ",".join('{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}' for _ in range(150_000))
     + "]}}]}", "application/json"),
    ("escaped index keys", '{"choices":[' + ",".join(f'{{"\\u0069ndex":{n}}}' for n in range(300_000)) + "]}",
     "application/json"),
    ("one event of many parts", "data: {\"choices\":[" + ",".join('{"delta":{}}' for _ in range(300_000))
     + "]}\n\ndata: [DONE]\n\n", "text/event-stream"),
    ("ten million embedding floats", '{"data":[{"embedding":[' + ",".join(["0.1"] * 10_000_000) + "]}]}",
     "application/json"),
    ("a batch output file of a million empty lines", "{}\n" * 1_000_000, "application/octet-stream"),
    ("a member per key", "{" + ",".join(f'"k{n}":0' for n in range(300_000)) + "}", "application/json"),
])
def test_the_judging_budget_counts_the_thing_itself_whatever_its_spelling(name: str, body: str,
                                                                         content_type: str) -> None:
    from conformance.wire.transport import judging_budget_problem

    started = time.monotonic()
    assert "past the judging budget" in (judging_budget_problem(body, content_type) or ""), name
    assert time.monotonic() - started < 3


def test_the_largest_legal_answers_are_within_the_judging_budget() -> None:
    from conformance.wire.transport import judging_budget_problem

    embeddings = '{"object":"list","data":[' + ",".join(
        f'{{"object":"embedding","index":{n},"embedding":[{",".join(["-0.0123"] * 3072)}]}}' for n in range(16)
    ) + "]}"
    long_text = json.dumps({"choices": [{"message": {"content": "word, " * 2_000_000}}]})  # commas inside a string
    stream = "".join('data: {"choices":[{"index":0,"delta":{"content":"a,b:c"}}]}\n\n' for _ in range(20_000))
    for body, kind in ((embeddings, "application/json"), (long_text, "application/json"),
                       (stream, "text/event-stream")):
        assert judging_budget_problem(body, kind) is None


def test_a_too_deep_report_or_saved_case_is_one_line_exit_2(tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    report = tmp_path / "deep.json"
    report.write_text('{"schema_version": 2, "results": ' + deep + "}")
    for args in (["diff", str(report), str(report)], ["report", str(report), "--out", str(tmp_path / "m")],
                 ["gaps", "draft", str(report)]):
        result = conformance(*args)
        assert result.returncode == 2 and "nests too deeply" in result.stderr, (args, result.stderr[-300:])
        assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "deep.json").write_text(deep)
    result = conformance("run", "--target", "llamacpp", "--cases-dir", str(cases), "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 2 and "nests too deeply" in result.stderr and "recursion" not in result.stderr


def test_the_junit_file_keeps_server_text_as_visible_escapes(tmp_path: Path, canary_key: str) -> None:
    import xml.etree.ElementTree as ElementTree

    def hostile(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.endswith("/chat/completions"):
            return Reply(500, {"error": {"message": "boom \x1b[2J" + BIDI + " <img src=x> ]]>", "type": "x",
                                         "param": None, "code": None}})
        return reply

    with running(canary_key) as server:
        server.mutations.append(hostile)
        conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--record-mode", "once",
                    "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"), "--surfaces", "rest",
                    "-k", "chat.system_user", "--junitxml", str(tmp_path / "junit.xml"), key=canary_key)
    text = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    ElementTree.fromstring(text.encode())  # well-formed
    assert "\x1b" not in text and BIDI not in text and "\\u202e" in text and "<img" not in text
