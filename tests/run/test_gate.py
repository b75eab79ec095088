"""The regression gate: known-gaps manifests and `conformance diff` on crafted report.json files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.judge.analysis import CaseResult
from conformance.judge.gaps import apply, closed_gaps, load_manifest, manifest_path
from conformance.model.errors import UsageError
from conformance.model.findings import Finding, Severity
from conformance.model.verdicts import Verdict
from conformance.report.diff import diff_reports


def finding(check: str, pointer: str, severity: Severity = Severity.DEVIATION, **extra: Any) -> dict[str, Any]:
    return {**Finding(check, pointer, "m", severity).to_dict(), **extra}


def result(case: str, surface: str, verdict: str, *findings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"case": case, "surface": surface, "verdict": verdict, "gated_verdict": extra.pop("gated", verdict),
            "findings": list(findings), **extra}


def report(*results: dict[str, Any], gaps_closed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"schema_version": 1, "results": list(results), "gaps_closed": gaps_closed or []}


BASELINE = report(
    result("chat.system_user", "rest", "PASS"),
    result("n.two", "rest", "FAIL", finding("chat.choices.count", "/choices", Severity.FAILURE)),
    result("stream.basic", "rest", "DEVIATION", finding("stream.role.first", "/choices/0/delta/role")),
    result("tools.auto", "rest", "DEVIATION", finding("tools.finish_reason", "/choices/0/finish_reason",
                                                      known_gap="finish-reason-stop-with-tool-calls")),
    result("embeddings.single", "rest", "DEVIATION", finding("schema.embeddings", "/data/0/index")),
)


def kinds(current: dict[str, Any]) -> dict[str, str]:
    return {c.case: c.kind for c in diff_reports(BASELINE, current)}


def test_identical_reports_are_unchanged() -> None:
    assert set(kinds(copy.deepcopy(BASELINE)).values()) == {"unchanged"}


def test_worse_verdicts_and_new_findings_are_regressions() -> None:
    current = copy.deepcopy(BASELINE)
    current["results"][0] = result("chat.system_user", "rest", "DEVIATION", finding("schema.chat.completion", "/id"))
    current["results"][2]["findings"].append(finding("stream.id.consistent", "/id"))
    found = kinds(current)
    assert found["chat.system_user"] == "regression" and found["stream.basic"] == "regression"
    assert found["n.two"] == "unchanged"


def test_pass_becoming_not_recorded_is_a_regression() -> None:
    current = copy.deepcopy(BASELINE)
    current["results"][0] = result("chat.system_user", "rest", "NOT RECORDED")
    assert kinds(current)["chat.system_user"] == "regression"


def test_better_verdicts_and_gone_findings_are_improvements() -> None:
    current = copy.deepcopy(BASELINE)
    current["results"][1] = result("n.two", "rest", "PASS")
    current["results"][4] = result("embeddings.single", "rest", "PASS")
    found = kinds(current)
    assert found["n.two"] == "improvement" and found["embeddings.single"] == "improvement"


def test_known_gap_that_disappears_is_an_improvement_saying_so() -> None:
    current = copy.deepcopy(BASELINE)
    current["results"][3] = result("tools.auto", "rest", "PASS")
    change = next(c for c in diff_reports(BASELINE, current) if c.case == "tools.auto")
    assert change.kind == "improvement" and "known gap closed" in change.note


def test_diff_exit_codes_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, same, worse = tmp_path / "base.json", tmp_path / "same.json", tmp_path / "worse.json"
    base.write_text(json.dumps(BASELINE))
    same.write_text(json.dumps(BASELINE))
    regressed = copy.deepcopy(BASELINE)
    regressed["results"][0]["verdict"] = "FAIL"
    worse.write_text(json.dumps(regressed))
    improved = copy.deepcopy(BASELINE)
    improved["results"][1] = result("n.two", "rest", "PASS")
    better = tmp_path / "better.json"
    better.write_text(json.dumps(improved))
    assert main(["diff", str(base), str(same)]) == 0
    assert main(["diff", str(base), str(better)]) == 0
    assert main(["diff", "--strict", str(base), str(better)]) == 1
    assert main(["diff", str(base), str(worse), "--markdown", str(tmp_path / "diff.md")]) == 1
    markdown = (tmp_path / "diff.md").read_text()
    assert "**1 regression(s)" in markdown and "`chat.system_user`" in markdown
    (tmp_path / "junk.json").write_text("[]")
    capsys.readouterr()
    assert main(["diff", str(base), str(tmp_path / "junk.json")]) == 2
    assert "not a conformance report" in capsys.readouterr().err


def test_gemini_manifest_loads_and_every_gap_cites_a_source() -> None:
    manifest = load_manifest(manifest_path("gemini"))
    assert len(manifest.gaps) >= 15
    assert all(g.source.startswith("https://") and g.reason for g in manifest.gaps)


def test_known_finding_does_not_fail_but_an_unknown_one_does() -> None:
    manifest = load_manifest(manifest_path("gemini"))
    res = CaseResult("tools.required", "rest", "f", "t", "s", Verdict.FAIL, findings=[
        Finding("tools.finish_reason", "/choices/0/finish_reason", "stop with calls"),
        Finding("tools.call.arguments.json", "/choices/0/message/tool_calls/0/function/arguments", "bad",
                Severity.FAILURE)])
    matched = apply(res, manifest)
    assert matched == {"finish-reason-stop-with-tool-calls"}
    assert res.gated_verdict is Verdict.FAIL  # the arguments failure is not a known gap
    res.findings = res.findings[:1]
    res.verdict = Verdict.DEVIATION
    apply(res, manifest)
    assert res.gated_verdict is Verdict.PASS


def test_gap_that_matched_nothing_in_a_run_that_covered_it_is_closed() -> None:
    from conformance.catalogue import CASES

    manifest = load_manifest(manifest_path("gemini"))
    everything = [result(case.id, "rest", "PASS") for case in CASES]
    closed = {g["id"] for g in closed_gaps(manifest, everything)}
    assert {"chat-id-missing", "n-rejected-on-some-models"} <= closed
    partial = [r for r in everything if r["case"] != "n.two"]
    closed = {g["id"] for g in closed_gaps(manifest, partial)}
    assert "n-rejected-on-some-models" not in closed  # n.two did not run: nothing can be said
    assert "chat-id-missing" not in closed  # it could show up on n.two, which did not run


@pytest.mark.parametrize("text,needle", [
    ("[[gap]]\nid='x'\ncheck='a'\nreason='r'\n", "id, a reason and a source"),
    ("[[gap]]\nid='x'\nreason='r'\nsource='s'\n", "either a check"),
    ("[[gap]]\nid='x'\nverdict='MEH'\nreason='r'\nsource='s'\n", "unknown verdict"),
    ("[[gap\n", "not valid TOML"),
])
def test_bad_manifest_is_a_usage_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=needle):
        load_manifest(path)


def test_a_known_gap_follows_the_parameter_into_saved_and_fuzzed_cases() -> None:
    """llama.cpp ignores `dimensions` whatever case sends it: a fuzzed request with it is not a new failure."""
    from conformance.judge.analysis import CaseResult
    from conformance.judge.gaps import apply, load_manifest, manifest_path
    from conformance.model.findings import Finding, Severity
    from conformance.model.verdicts import Verdict

    manifest = load_manifest(manifest_path("llamacpp"))
    ignored = Finding("embeddings.dimensions", "/data/0/embedding", "64 values", Severity.FAILURE)

    def judged(request: dict) -> CaseResult:
        result = CaseResult("fuzz.0a1b2c3d4e", "rest", "Embeddings", "fuzzed", "", Verdict.FAIL, findings=[ignored])
        apply(result, manifest, request)
        return result

    assert judged({"model": "m", "input": "x", "dimensions": 7}).gated_verdict is Verdict.PASS
    assert judged({"model": "m", "input": "x"}).gated_verdict is Verdict.FAIL  # the same finding, unexplained


def test_openai_answers_table_is_what_the_recordings_say() -> None:
    """The shipped oracle table re-derived from the genuine recordings in ../shared: the same facts."""
    from conformance.judge.openai_answers import derive, derive_embeddings, table
    from tests.conftest import need_reference

    recordings = need_reference("openai-recordings", "chatcompletions.results.json.gz")
    derived = derive(recordings)
    derived["facts"] += derive_embeddings(need_reference("openai-recordings", "embeddings.results.json.gz"))
    assert derived == table()
    embeddings = [f for f in table()["facts"] if f["endpoint"] == "embeddings"]
    assert len(embeddings) >= 10 and all(f["status"] == 400 for f in embeddings)
    assert not any(f["param"] == "dimensions" and f["value"] == 1536 for f in embeddings)  # model-dependent
    assert table()["licence"].startswith("Apache-2.0") and len(table()["facts"]) >= 30


def test_core_tier_leaves_out_the_invalid_value_cases() -> None:
    from conformance.catalogue import CASES, select_tier

    core = select_tier(CASES, None, recording=True)
    assert core and all(c.tier == "core" for c in core)
    assert select_tier(CASES, None, recording=False) == CASES
    assert any(c.id.startswith("params.invalid.") for c in CASES)
    assert all(c.oracle.startswith("OpenAI's recorded answer") for c in CASES if c.id.startswith("params.invalid."))
