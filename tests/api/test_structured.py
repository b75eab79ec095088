"""The Python SDK's structured-output helper (chat.completions.parse) on the json_schema case, against the
SYNTHETIC stand-in server (tests/standin)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.catalogue import case_by_id
from conformance.surfaces.structured import parse_model
from tests.conftest import run_exit_code
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin.server import Reply, running


def test_the_case_schema_becomes_the_equivalent_model() -> None:
    model = parse_model(case_by_id("structured.json_schema").body)
    assert model is not None and set(model.model_fields) == {"city", "country"}
    assert model.model_json_schema()["additionalProperties"] is False
    assert parse_model({"response_format": {"type": "json_object"}}) is None
    loose = {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {
        "type": "object", "properties": {"a": {"type": "array"}}, "required": ["a"], "additionalProperties": False}}}
    assert parse_model({"response_format": loose}) is None  # richer than a flat object: stays on create()


def run_parse_case(tmp_path: Path, mutate: Any = None) -> dict[str, Any]:
    from tests.conftest import CANARY_KEY

    with running(CANARY_KEY) as server:
        if mutate:
            server.mutations.append(mutate)
        done = conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--record-mode", "once",
                           "--surfaces", "python-sdk", "-k", "structured.json_schema", "--catalogue", "full",
                           "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"), key=CANARY_KEY)
        sent = [body for path, _, body in server.requests if path.endswith("chat/completions")]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert done.returncode == run_exit_code(report), done.stderr
    result = report["results"][0]
    return {"result": result, "sent": sent}


def test_parse_helper_sends_the_models_strict_schema_and_reports_what_it_parsed(tmp_path: Path) -> None:
    run = run_parse_case(tmp_path)
    assert run["result"]["verdict"] == "PASS", run["result"]["reason"]
    assert run["result"]["sdk"]["helper"] == "chat.completions.parse"
    assert run["result"]["sdk"]["parsed"] == [{"city": "Paris", "country": "France"}]
    sent = run["sent"][0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert set(sent["json_schema"]["schema"]["required"]) == {"city", "country"}


def test_an_answer_the_helper_cannot_parse_is_a_finding_on_the_sdk_surface(tmp_path: Path) -> None:
    def drop_country(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.endswith("chat/completions") and isinstance(reply.body, dict):
            reply.body["choices"][0]["message"]["content"] = json.dumps({"city": "Paris"})
        return reply

    result = run_parse_case(tmp_path, drop_country)["result"]
    checks = {f["check"] for f in result["findings"]}
    assert result["verdict"] == "FAIL" and {"sdk.raised", "chat.response_format"} <= checks
    assert "ValidationError" in next(f["message"] for f in result["findings"] if f["check"] == "sdk.raised")
