"""Reports people read: report.json against its shipped schema, the HTML page in a real headless browser,
the cross-target matrix, JUnit XML, and the --baseline gate of `conformance run`."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.catalogue import CASES
from conformance.cli import main
from conformance.surfaces import SURFACES
from tests.conftest import REPO, need_every_surface

COMMITTED = REPO / "reports" / "llamacpp" / "report.json"


@cache
def report_validator() -> Draft202012Validator:
    schema = json.loads(resources.files("conformance.schemas").joinpath("report.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh replay of the committed llama.cpp cassettes, with JUnit XML."""
    need_every_surface()
    out = tmp_path_factory.mktemp("replay")
    code = main(["run", "--target", "llamacpp", "--cassette-dir", str(REPO / "cassettes" / "llamacpp"),
                 "--report-dir", str(out), "--junitxml", str(out / "junit.xml")])
    assert code == 0  # every FAIL/ERROR of this target is a known gap
    return out


def test_report_json_matches_its_schema(replayed: Path) -> None:
    report = json.loads((replayed / "report.json").read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in report_validator().iter_errors(report)]
    assert not errors, errors[:5]
    assert report["schema_version"] == 2 and len(report["results"]) == len(CASES) * len(SURFACES)


def test_schema_rejects_a_broken_report() -> None:
    report = json.loads(COMMITTED.read_text())
    report["results"][0]["verdict"] = "MAYBE"
    del report["spec"]
    assert len(list(report_validator().iter_errors(report))) == 2


def test_junit_xml_carries_verdict_and_check_ids(replayed: Path) -> None:
    tree = ET.parse(replayed / "junit.xml")
    cases = tree.getroot().findall(".//testcase")
    assert len(cases) == len(CASES) * len(SURFACES)
    props = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    n_two = props["test_case[n.two-rest]"]
    assert n_two["verdict"] == "FAIL" and "chat.choices.count" in n_two["checks"]
    assert all("conformance_result" not in p for p in props.values())


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name) or name
    pytest.skip("no headless Chromium on this machine (CI installs Debian's chromium)")


def run_chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0"]
    return subprocess.run([chromium(), *flags, *extra, page.as_uri()], capture_output=True, text=True, timeout=120)


def test_html_report_renders_in_headless_chromium(replayed: Path, tmp_path: Path) -> None:
    page = replayed / "report.html"
    dom = run_chromium(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for case in CASES:
        assert case.id in dom.stdout
    console_errors = [line for line in dom.stderr.splitlines()
                      if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)]
    assert not console_errors, console_errors
    shot = tmp_path / "report.png"
    picture = run_chromium(page, tmp_path, "--window-size=1300,1800", f"--screenshot={shot}")
    assert picture.returncode == 0 and shot.stat().st_size > 20_000


def test_html_report_is_self_contained(replayed: Path) -> None:
    html = (replayed / "report.html").read_text()
    for needle in ("http://", "https://"):
        external = [line for line in html.splitlines() if f'src="{needle}' in line or (f'href="{needle}' in line
                    and "stylesheet" in line)]
        assert not external
    assert "openai-openapi@f85dbe2" in html
    # One script, inline (the filters), and a Content-Security-Policy that allows that one and nothing else.
    import re

    from conformance.report.write import script_hash

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1 and scripts[0][0] == ""
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy and f"script-src '{script_hash(scripts[0][1])}'" in policy.group(1)
    assert "default-src 'none'" in policy.group(1)


def test_cross_target_matrix(replayed: Path, tmp_path: Path) -> None:
    other = json.loads((replayed / "report.json").read_text())
    other["target"]["name"] = "llamacpp-copy"
    for result in other["results"]:
        if result["case"] == "n.two":
            result["verdict"] = "PASS"
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(other))
    assert main(["report", str(replayed / "report.json"), str(copy), "--out", str(tmp_path / "x")]) == 0
    matrix = (tmp_path / "x" / "matrix.md").read_text()
    assert "| llamacpp | llamacpp-copy |" in matrix
    line = next(row for row in matrix.splitlines() if "`n.two`" in row)
    assert "| FAIL (every surface) | PASS (every surface) |" in line
    other["results"][0]["verdict"] = "ERROR"  # surfaces that disagree are listed one by one
    copy.write_text(json.dumps(other))
    assert main(["report", str(replayed / "report.json"), str(copy), "--out", str(tmp_path / "y")]) == 0
    first = other["results"][0]
    line = next(row for row in (tmp_path / "y" / "matrix.md").read_text().splitlines() if f"`{first['case']}`" in row)
    assert f"{first['surface']}: ERROR" in line
    assert main(["report", str(copy), str(copy)]) == 2


def test_run_with_baseline_fails_on_regression(tmp_path: Path) -> None:
    baseline = json.loads(COMMITTED.read_text())
    for result in baseline["results"]:
        if result["case"] == "n.two":
            result["verdict"], result["findings"] = "PASS", []
    better = tmp_path / "better-baseline.json"
    better.write_text(json.dumps(baseline))
    args = ["run", "--target", "llamacpp", "--cassette-dir", str(REPO / "cassettes" / "llamacpp"),
            "--report-dir", str(tmp_path / "r"), "-k", "n.two or chat.system_user"]  # the gate needs no more
    assert main([*args, "--baseline", str(COMMITTED)]) == 0
    assert main([*args, "--baseline", str(better)]) == 1
    assert "regression" in (tmp_path / "r" / "diff.md").read_text()


def test_live_mode_without_key_can_be_skipped(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert main(["run", "--target", "gemini", "--record-mode", "rewrite", "--skip-without-key"]) == 0
    assert "skipped: GEMINI_API_KEY is not set" in capsys.readouterr().err
    assert main(["run", "--target", "gemini", "--record-mode", "rewrite"]) == 2


def test_replay_reproduces_the_committed_report_byte_for_byte(replayed: Path) -> None:
    """The main job's promise (README command 1 leaves the clone unchanged), and the serial reference other tests
    compare parallel runs with."""
    for name in ("report.json", "report.md", "report.html", "badge.json"):
        assert (replayed / name).read_bytes() == (COMMITTED.parent / name).read_bytes(), name


def test_what_breaks_comes_first_grouped_by_harm_with_the_surfaces_it_hits() -> None:
    from conformance.report.summary import what_breaks

    report = json.loads(COMMITTED.read_text())
    breaks = what_breaks(report)
    by_case = {c["case"]: c for g in breaks["groups"] for c in g["cases"]}
    n_two = by_case["n.two"]["problems"]
    assert n_two[0]["what"] == "does not work" and set(n_two[0]["surfaces"]) == set(SURFACES)
    stream = by_case["tools.stream"]["problems"]
    assert {("breaks the client (sdk.assembled)", "node-sdk")} <= {(p["what"], s) for p in stream
                                                                    for s in p["surfaces"]}
    from conformance.report.summary import HARMS

    order = [key for key, _, _ in HARMS]  # worst harm first
    assert [g["harm"] for g in breaks["groups"]] == sorted((g["harm"] for g in breaks["groups"]), key=order.index)
    assert breaks["groups"][0]["harm"] == "conversation"  # llama.cpp's refused next turns come first
    markdown = (COMMITTED.parent / "report.md").read_text()
    assert markdown.index("## What breaks for your users") < markdown.index("## Matrix")


def test_badge_counts_what_passes_as_it_is_and_the_new_failures() -> None:
    from conformance.report.summary import badge

    def report(*gated: str) -> dict:
        return {"target": {"name": "t"}, "results": [{"verdict": g, "gated_verdict": g} for g in gated]}

    assert badge(report("PASS", "PASS")) == {"schemaVersion": 1, "label": "OpenAI compatibility (t)",
                                             "message": "2/2 pass, 0 new failures", "color": "brightgreen"}
    assert badge(report("PASS", "DEVIATION", "NOT RECORDED"))["color"] == "yellowgreen"
    assert badge(report("PASS", "FAIL", "DEVIATION"))["message"] == "1/3 pass, 1 new failures"
    assert badge(report("PASS", "FAIL"))["color"] == "red"
    assert badge(report("NOT RECORDED"))["color"] == "lightgrey"
    # A known gap is not a pass: 1 of 2 passes, none is new, and the known failure colours it orange.
    known = {"target": {"name": "t"}, "results": [{"verdict": "PASS", "gated_verdict": "PASS"},
                                                  {"verdict": "FAIL", "gated_verdict": "PASS", "findings": []}]}
    assert badge(known) == {"schemaVersion": 1, "label": "OpenAI compatibility (t)",
                            "message": "1/2 pass, 0 new failures", "color": "orange"}


def test_headline_counts_passes_new_failures_and_known_gaps_apart() -> None:
    from conformance.report.summary import headline

    report = json.loads(COMMITTED.read_text())
    line = headline(report)
    passed = sum(1 for r in report["results"] if r["verdict"] == "PASS")
    assert line.startswith(f"{passed} of {len(report['results'])} pass; 0 new failure(s)"), line
    assert passed < report["gated_summary"]["PASS"]  # what 'set aside' used to call a pass

def test_hostile_text_in_what_breaks_stays_inside_one_code_span() -> None:
    from markdown_it import MarkdownIt

    from conformance.report.write import inline_code

    hostile = "x`` y\n\n# All checks passed\n<!-- hide\x1b[2J [a](javascript:alert(1)) <b>bold</b>"
    tokens = MarkdownIt("commonmark").parse(f"- item: {inline_code(hostile)}\n")
    inline = [t for t in tokens if t.type == "inline"]
    assert len(inline) == 1
    children = [c.type for c in inline[0].children]
    assert children == ["text", "code_inline"], children
    assert "\x1b" not in inline_code(hostile) and "\n" not in inline_code(hostile)


def test_what_breaks_ranks_by_what_it_does_to_a_client() -> None:
    from conformance.report.summary import what_breaks

    def row(case: str, verdict: str, check: str | None = None, **extra: object) -> dict:
        findings = [{"check": check, "pointer": "/", "message": f"{check} broke", "severity": "failure",
                     "known_gap": None}] if check else []
        return {"case": case, "surface": "rest", "feature": "f", "verdict": verdict, "gated_verdict": verdict,
                "reason": f"{case} reason", "findings": findings, "tier": "core", **extra}

    report = {"features": ["f"], "results": [
        row("chat.usage.x", "FAIL", "usage.parts"),
        row("errors.bad_key", "ERROR"),
        row("params.accepted.user", "UNSUPPORTED"),
        row("params.invalid.top_p.value", "UNSUPPORTED", tier="full"),  # refusing an invalid value is right
        row("stream.tool_call_finish", "FAIL", "stream.tool_calls.finish_reason"),
        row("flow.tool_loop", "FAIL", "flow.echo.extension_required"),
        row("chat.max_tokens", "FAIL", "chat.max_tokens.honoured"),
    ]}
    breaks = what_breaks(report)
    assert [g["harm"] for g in breaks["groups"]] == ["conversation", "tools", "refused", "text", "no-answer",
                                                     "accounting"]
    assert [c["case"] for g in breaks["groups"] for c in g["cases"]][:3] == [
        "flow.tool_loop", "stream.tool_call_finish", "params.accepted.user"]
    assert breaks["unsupported"] == ["params.invalid.top_p.value"]
    assert all(g["sees"] for g in breaks["groups"])


def test_every_committed_result_survives_the_process_boundary_unchanged() -> None:
    """Results travel from pytest-xdist's workers as JSON and are typed again (CaseResult.from_dict) before the
    report: each committed result, restored and written again, is the same data."""
    from conformance.judge.analysis import CaseResult

    seen = 0
    for path in sorted((REPO / "reports").glob("*/report.json")):
        for result in json.loads(path.read_text())["results"]:
            assert CaseResult.from_dict(result).to_dict() == result, (path, result["case"], result["surface"])
            seen += 1
    assert seen > 1000
