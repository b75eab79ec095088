"""Deviation injection: every real-world deviation class is caught, on conformant exchanges and on recordings.

The conformant exchanges here are the SYNTHETIC stand-in server's answers to every catalogue case (so that every
injector finds something to apply to: streamed tool calls, n=2, include_usage, base64 vectors...).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance.catalogue import CASES
from conformance.cli import main
from conformance.judge.gaps import GapManifest
from conformance.run.profiles import load_profile
from conformance.selftest.injectors import INJECTORS, OPENAI_CONTRACT
from conformance.selftest.run import CAUGHT, MISSED, run_selftest
from conformance.selftest.samples import Sample
from conformance.wire.sse import parse_stream
from tests.conftest import REPO
from tests.standin import server as standin

PROFILE = load_profile("tests/standin/standin.toml")


def standin_samples() -> list[Sample]:
    samples = []
    for case in CASES:
        request = case.request_body(PROFILE)
        reply = (standin.bad_key_reply() if case.invalid_key or case.no_key
                 else standin.answer(case.path(PROFILE), request))
        sample = Sample(name=f"standin/rest/{case.id}", case=case.id, kind="error" if case.expect_error else case.kind,
                        request=request, status=reply.status,
                        content_type="text/event-stream" if reply.events else "application/json",
                        expect=case.expectations(PROFILE))
        if reply.events is not None:  # as the stand-in frames them: [DONE] for chat's, named events for Responses'
            parsed = parse_stream(standin.sse_text(reply))
            sample.events, sample.done = [json.dumps(c) for c in parsed.chunks], parsed.done
            sample.names = list(parsed.event_names) if reply.named else []
        else:
            sample.body = reply.body
        samples.append(sample)
    return samples


@pytest.fixture(scope="module")
def standin_result() -> object:
    return run_selftest(standin_samples(), {"standin": GapManifest()})


def test_untouched_conformant_exchanges_give_no_finding(standin_result: object) -> None:
    assert standin_result.false_findings == []


@pytest.mark.parametrize("injector_id", list(INJECTORS))
def test_every_deviation_class_applies_and_is_caught(standin_result: object, injector_id: str) -> None:
    cells = [c for c in standin_result.cells if c.injector == injector_id and c.outcome != "n/a"]
    assert cells, f"{injector_id} applied to no conformant exchange"
    missed = [c.sample for c in cells if c.outcome == MISSED]
    assert not missed, f"{injector_id} missed on {missed}"
    caught = {c.check for c in cells if c.outcome == CAUGHT}
    assert caught <= set(INJECTORS[injector_id].expect)


def test_every_injector_cites_a_source_and_says_what_it_does() -> None:
    for injector in INJECTORS.values():
        assert injector.doc and (injector.source.startswith("https://") or injector.source == OPENAI_CONTRACT)


def test_gemini_evidence_classes_are_all_covered() -> None:
    """The deviation classes of ../shared/reference/gemini-evidence/DEVIATIONS.md each have an injector."""
    classes = {
        "chat.id.missing", "chat.logprobs.omitted", "chat.refusal.omitted", "chat.message.omitted",
        "chat.usage.total_mismatch", "tools.finish_reason.stop", "tools.id.empty", "stream.id.missing",
        "stream.id.inconsistent", "stream.role.repeated", "stream.finish_reason.omitted",
        "stream.tool_calls.index_missing", "stream.tool_calls.parallel_share_index", "stream.usage.missing",
        "n.ignored", "embeddings.index.missing", "embeddings.usage.missing", "embeddings.model.missing",
        "embeddings.base64.ignored", "embeddings.dimensions.ignored", "error.google_rpc_array", "error.empty_body",
        "stream.done.missing", "stream.role.missing", "tools.arguments.invalid_json", "tools.arguments.off_schema",
    }
    assert classes <= set(INJECTORS)


def test_selftest_over_committed_cassettes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest", "--cassettes", str(REPO / "cassettes"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert " 0 missed, 0 unexpected" in out
    assert "injections caught, 0 missed" in (tmp_path / "selftest.md").read_text()


def test_selftest_flags_a_checker_that_stopped_catching(monkeypatch: pytest.MonkeyPatch) -> None:
    """If a check stops working, the self-test says MISSED instead of passing quietly."""
    from conformance.checks import REGISTRY

    original = REGISTRY["stream.done"]
    monkeypatch.setitem(REGISTRY, "stream.done", type(original)(original.id, original.kinds, lambda ctx: [],
                                                                original.severity, original.needs_request, ""))
    result = run_selftest(standin_samples(), {"standin": GapManifest()})
    assert any(c.injector == "stream.done.missing" and c.outcome == MISSED for c in result.cells)
    assert not result.ok


def test_selftest_cli_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.checks import REGISTRY

    assert main(["selftest", "--cassettes", str(tmp_path)]) == 2  # nothing recorded there
    assert "no recorded catalogue exchanges" in capsys.readouterr().err
    original = REGISTRY["tools.call.id"]
    monkeypatch.setitem(REGISTRY, "tools.call.id", type(original)(original.id, original.kinds, lambda ctx: [],
                                                                  original.severity, original.needs_request, ""))
    # One target's REST column is enough to see the broken check miss (the whole folder is the test above's).
    shutil.copytree(REPO / "cassettes" / "llamacpp" / "rest", tmp_path / "some" / "llamacpp" / "rest")
    assert main(["selftest", "--cassettes", str(tmp_path / "some")]) == 1
    out = capsys.readouterr().out  # the matrix goes to stdout: the broken check's row names what it missed
    row = next(line for line in out.splitlines() if "tools.id.empty" in line)
    assert "llamacpp/" in row and " 0 missed" not in out


def test_setup_node_without_node_is_not_an_error(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["setup-node"]) == 0
    assert "node-sdk surface will be reported as NOT RUN" in capsys.readouterr().err
