"""Each surface sends what its documentation's example sends: for every case recorded on the reference target, the
four surfaces put the same JSON body on the wire, except where a surface's documented helper makes the request
itself (listed below, each with its reason, and compared after that helper's own additions are taken out).
Read from the committed cassettes (recordings of the llama.cpp reference server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

CASSETTES = REPO / "cassettes" / "llamacpp"
SURFACES = ("python-sdk", "rest", "node-sdk", "curl")
# (case, surface): why its body is made by a helper. Gemini's structured-output example for Python calls
# client.beta.chat.completions.parse(response_format=<a pydantic model>): the SDK writes the schema from the model
# (with "title" annotations) and sends "stream": false.
HELPERS = {("structured.json_schema", "python-sdk"): "chat.completions.parse with a pydantic model"}


def _bodies(path: Path) -> list[Any]:
    from conformance.cassettes import read_cassette

    found = []
    for interaction in read_cassette(path)["interactions"]:
        request = interaction["request"]
        headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in request["headers"].items()}
        body = request.get("body") or b""
        body = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        if "multipart/" in headers.get("content-type", ""):
            found.append("multipart upload")  # a file upload: its form parts are built by each client
        else:
            found.append(json.loads(body) if body else None)
    return found


def _without_helper_additions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_helper_additions(v) for k, v in value.items() if k != "title" and
                not (k == "stream" and v is False)}
    if isinstance(value, list):
        return [_without_helper_additions(v) for v in value]
    return value


def _cases() -> list[str]:
    if not CASSETTES.is_dir():
        return []
    return sorted(p.stem for p in (CASSETTES / "rest").glob("*.yaml"))


@pytest.mark.parametrize("case", _cases())
def test_every_surface_sends_the_same_body(case: str) -> None:
    bodies = {s: _bodies(CASSETTES / s / f"{case}.yaml") for s in SURFACES
              if (CASSETTES / s / f"{case}.yaml").is_file()}
    assert len(bodies) == len(SURFACES), f"{case} is not recorded on every surface"
    reference = bodies["rest"]
    for surface, sent in bodies.items():
        if (case, surface) in HELPERS:
            assert _without_helper_additions(sent) == _without_helper_additions(reference), (case, surface)
        else:
            assert sent == reference, (case, surface)


def test_the_python_sdk_sends_geminis_extra_body_field_nested_as_its_page_shows() -> None:
    """Gemini's page: extra_body={"extra_body": {"google": {"thinking_config": ...}}} in Python, which puts an
    "extra_body" object in the wire body (the SDK flattens one level of its own extra_body)."""
    from conformance.surfaces.python_sdk import sdk_arguments

    body = {"model": "m", "messages": [], "extra_body": {"google": {"thinking_config": {"thinking_budget": 800}}}}
    assert sdk_arguments(body) == {"model": "m", "messages": [],
                                   "extra_body": {"extra_body": {"google": {"thinking_config": {
                                       "thinking_budget": 800}}}}}
    (sent,) = _bodies(CASSETTES / "python-sdk" / "reasoning.thinking_config.yaml")
    assert "google" not in sent and sent["extra_body"]["google"]["thinking_config"]["thinking_budget"] == 800
