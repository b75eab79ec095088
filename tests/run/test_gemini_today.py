"""Gemini as documented today: the current profile, a live run that first checks the key's models, the layer's own
documentation as a second oracle, thinking cases and checks, and Vertex AI's endpoint (project and location from
the environment, a token from a command, never written). Servers here are the SYNTHETIC stand-in, on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.catalogue import CASES
from conformance.cli import main
from conformance.run.profiles import load_profile
from tests.standin.server import Reply, _error, running


def test_the_gemini_profile_names_the_documentations_models_with_source_and_date() -> None:
    profile = load_profile("gemini")
    assert profile.chat_model == "gemini-3.5-flash" and profile.embedding_model == "gemini-embedding-001"
    assert profile.models_source.startswith("https://ai.google.dev/gemini-api/docs/openai")
    assert profile.documented["reasoning_effort"] and profile.documented_source and profile.documented_checked
    assert profile.models_checked and profile.rpd and profile.rpd_source


def test_every_reasoning_effort_of_the_pinned_spec_has_a_case_and_the_catalogue_reaches_90() -> None:
    efforts = {c.body.get("reasoning_effort") for c in CASES if c.id.startswith("reasoning.effort.")}
    assert {"none", "minimal", "low", "medium", "high", "xhigh", "max"} <= efforts
    assert len(CASES) >= 90
    documented = {c.id for c in CASES if "gemini" in c.documented_by}
    assert {"reasoning.effort.low", "reasoning.thinking_config", "audio.input_wav"} <= documented


def _profile(tmp_path: Path, base_url: str, chat_model: str = "standin-chat") -> Path:
    path = tmp_path / "p.toml"
    path.write_text(f'[target]\nname = "gemini"\nbase_url = "{base_url}"\napi_key_env = "STANDIN_KEY"\n'
                    f'chat_model = "{chat_model}"\nembedding_model = "standin-embed"\n'
                    '[target.documented.reasoning_effort]\n"*" = ["low", "medium", "high"]\n')
    return path


def test_a_live_run_stops_before_any_case_when_the_keys_models_lack_the_profiles(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        code = main(["run", "--target", str(_profile(tmp_path, server.base_url, "gemini-9-ultra")), "--record-mode",
                     "once", "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
        sent = [path for path, _, _ in server.requests]
    err = capsys.readouterr().err
    assert code == 2 and "has no gemini-9-ultra" in err and "standin-chat" in err
    assert sent == ["/v1/models"]  # the model list, and not one case


def test_the_documentation_oracle_fails_a_documented_value_the_server_rejects(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def rejects_minimal_and_low(path: str, request: dict, reply: Reply) -> Reply:
        if request.get("reasoning_effort") in ("minimal", "low"):
            return _error(400, f"Invalid reasoning_effort: {request['reasoning_effort']}. Valid values are: high, "
                               "medium, none", "invalid_request_error", None, "reasoning_effort")
        return reply

    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        server.mutations.append(rejects_minimal_and_low)
        main(["run", "--target", str(_profile(tmp_path, server.base_url)), "--record-mode", "once", "--surfaces",
              "rest", "-k", "reasoning.effort.minimal or reasoning.effort.low", "--catalogue", "full", "--gaps", "none",
              "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    rows = {r["case"]: r for r in json.loads((tmp_path / "r" / "report.json").read_text())["results"]}
    # "minimal" is not documented for this model (the page has it for Gemini 3 Flash only): UNSUPPORTED.
    assert rows["reasoning.effort.minimal"]["verdict"] == "UNSUPPORTED"
    low = rows["reasoning.effort.low"]
    assert low["verdict"] == "FAIL" and "ai.google.dev/gemini-api/docs/openai" in low["reason"]
    assert [f["check"] for f in low["findings"] if f["check"] == "docs.rejected"] == ["docs.rejected"]


def test_vertex_dry_run_prints_the_url_from_the_environment_and_the_estimate_without_a_request(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VERTEX_PROJECT", "my-project-123")
    monkeypatch.setenv("VERTEX_LOCATION", "us-central1")
    monkeypatch.setenv("VERTEX_ACCESS_TOKEN", "ya29.dry-run-is-never-sent")
    monkeypatch.setenv("PATH", "/nonexistent")  # no gcloud: the variable is what the run would use
    assert main(["run", "--target", "vertex", "--record-mode", "once", "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert ("https://aiplatform.googleapis.com/v1/projects/my-project-123/locations/us-central1/endpoints/openapi/"
            in err)
    assert "distinct request(s)" in err and "no request was sent" in err and "gcloud auth print-access-token" in err


def test_vertex_without_its_project_says_which_variable_is_missing(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VERTEX_PROJECT", raising=False)
    monkeypatch.setenv("VERTEX_LOCATION", "us-central1")
    assert main(["run", "--target", "vertex", "--dry-run"]) == 2
    assert "needs VERTEX_PROJECT" in capsys.readouterr().err


def test_a_key_command_supplies_the_token_in_memory_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "ya29." + "a0Xy" * 12
    script = tmp_path / "print-token"
    script.write_text(f"#!/bin/sh\necho {token}\n")
    script.chmod(0o755)
    monkeypatch.setenv("VERTEX_ACCESS_TOKEN", "")  # empty counts as unset; restored (absent) after the test
    profile = load_profile(str(_vertex_like(tmp_path, str(script))))
    assert profile.fetch_key() == token
    from conformance.wire.scrub import looks_like_key

    assert looks_like_key(f"Authorization: Bearer {token}") is not None  # the secret scan knows the shape
    assert looks_like_key(f"token {token}") == "ya29.a0X..."


def _vertex_like(tmp_path: Path, command: str) -> Path:
    path = tmp_path / "v.toml"
    path.write_text('[target]\nname = "v"\nbase_url = "http://127.0.0.1:9/v1/"\napi_key_env = "VERTEX_ACCESS_TOKEN"\n'
                    f'api_key_command = "{command}"\nchat_model = "google/m"\nembedding_model = "google/e"\n')
    return path


def test_reasoning_in_content_and_unreported_reasoning_tokens_are_findings() -> None:
    from conformance.checks import CheckContext, run_checks

    body = {"id": "c", "object": "chat.completion", "created": 1700000000, "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop", "logprobs": None, "message": {
            "role": "assistant", "content": "<thought>Plan the answer.</thought>AI learns from data.",
            "refusal": None}}], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}}
    found = {f.check: f for f in run_checks(CheckContext("chat.completion", body=body,
                                                         request={"model": "m", "messages": [],
                                                                  "reasoning_effort": "low"}))}
    assert found["reasoning.in_content"].pointer == "/choices/0/message/content"
    assert "<thought> block" in found["reasoning.in_content"].message
    assert found["reasoning.tokens.reported"].pointer == "/usage/completion_tokens_details/reasoning_tokens"


@pytest.mark.parametrize("value, documented", [("none", False), ("minimal", True), ("xhigh", False)])
def test_the_documentation_oracle_holds_the_page_to_what_it_documents_for_this_model(value: str,
                                                                                   documented: bool) -> None:
    """gemini-3.5-flash: the page documents 'minimal' for Gemini 3 Flash, and 'none' only for 2.5 non-Pro models
    (Gemini 3 thinking cannot be turned off): refusing 'none' is a refusal the page announces, not a FAIL."""
    from conformance.catalogue import CASES
    from conformance.judge.analysis import CaseResult
    from conformance.model.verdicts import Verdict
    from conformance.run.runner import documented_failure
    from conformance.run.settings import resolve

    settings = resolve({"target": "gemini"})
    case = next(c for c in CASES if c.id == f"reasoning.effort.{value}")
    result = CaseResult(case=case.id, surface="rest", feature=case.feature, title=case.title, section=case.section,
                        verdict=Verdict.UNSUPPORTED, reason="HTTP 400: Invalid reasoning_effort")
    documented_failure(result, case, settings)
    assert (result.verdict is Verdict.FAIL) is documented
    assert any(f.check == "docs.rejected" for f in result.findings) is documented
    if value == "none":
        assert "for other models than gemini-3.5-flash" in result.reason


def test_what_breaks_on_a_gemini_like_server_comes_worst_first(tmp_path: Path, canary_key: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the SYNTHETIC Gemini-like stand-in (tests/standin/gemini_like.py: thought signatures required,
    finish_reason stop with tool calls, index-less tool-call deltas, store refused, error arrays)."""
    from conformance.report.summary import what_breaks
    from tests.standin.gemini_like import gemini_like

    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        server.mutations.append(gemini_like)
        main(["run", "--target", str(_profile(tmp_path, server.base_url)), "--record-mode", "once", "--catalogue",
              "full", "--surfaces", "rest,python-sdk", "-k", "flow.tool_loop or tools.result_round_trip or "
              "tools.auto or tools.stream or params.accepted.store or chat.system_user",
              "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    groups = {g["harm"]: {c["case"] for c in g["cases"]} for g in what_breaks(report)["groups"]}
    assert next(iter(groups)) == "conversation"
    assert {"flow.tool_loop", "tools.result_round_trip"} <= groups["conversation"]
    assert {"tools.auto", "tools.stream"} <= groups["tools"]  # finish_reason stop; deltas without an index
    assert "params.accepted.store" in groups["refused"]
    assert list(groups).index("tools") < list(groups).index("refused")
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert markdown.index("A conversation cannot continue") < markdown.index("Tool calls are lost")
