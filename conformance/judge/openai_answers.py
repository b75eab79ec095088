"""OpenAI's own answers to invalid requests, as data: the oracle for what a compatible server must reject.

The table (``conformance/data/openai-answers.json``) is derived once from genuine recorded OpenAI exchanges (the
public dataset aliok/FauxpenAI-spec, commit a463b57, Apache-2.0; its copy lives in ../shared/reference/
openai-recordings) by ``python -m conformance.judge.openai_answers DERIVE RECORDINGS.json.gz``. Each fact is one request
shape that differs from a valid request by one parameter's value, and OpenAI's recorded answer to it: HTTP
status, ``error.type``, ``error.code`` and ``error.param``. Only facts that do not depend on the model or on
another parameter are kept (one parameter, one value, one answer, seen the same way every time).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ATTRIBUTION = {
    "source": "genuine OpenAI API exchanges recorded by the public dataset repository aliok/FauxpenAI-spec, commit "
              "a463b57 (2025-03-23)",
    "licence": "Apache-2.0 (the dataset's licence; this table is derived from it and keeps its notice)",
    "derived_by": "python -m conformance.judge.openai_answers derive chatcompletions.results.json.gz "
                  "--embeddings embeddings.results.json.gz",
}
# The valid embeddings request that the recorded invalid ones vary by one parameter (besides the model).
EMBEDDINGS_BASE = {"input": "hello"}
# Error codes that describe the value of one parameter whatever the rest of the request says.
VALUE_CODES = ("invalid_type", "decimal_above_max_value", "decimal_below_min_value", "integer_above_max_value",
               "integer_below_min_value", "invalid_value", "missing_required_parameter")
# Parameters whose rejection depends on the model recorded (gpt-4 vs gpt-4o), not on the value alone.
MODEL_DEPENDENT = ("model", "modalities", "prediction", "audio", "reasoning_effort")


def derive(recordings: Path, endpoint: str = "chat/completions") -> dict[str, Any]:
    with gzip.open(recordings, "rt", encoding="utf-8") as handle:
        scenarios = json.load(handle)
    seen: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
    for scenario in scenarios.values():
        response = scenario.get("response") or {}
        body = response.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        request = (scenario.get("scenario") or {}).get("requestBody")
        if not isinstance(error, dict) or not isinstance(request, dict):
            continue
        param, code = error.get("param"), error.get("code")
        if code not in VALUE_CODES or not isinstance(param, str) or param in MODEL_DEPENDENT:
            continue
        value = request.get(param, "<absent>") if code == "missing_required_parameter" else request.get(param)
        if code != "missing_required_parameter" and param not in request:
            continue
        key = (param, json.dumps(value, sort_keys=True))
        seen[key].add((response.get("status"), error.get("type"), code, param))
    return {**ATTRIBUTION, "facts": _agreed(seen, endpoint)}


def _agreed(seen: dict[tuple[str, str], set[tuple[Any, ...]]], endpoint: str) -> list[dict[str, Any]]:
    """A fact per (parameter, value) that every recording of it answered alike: one answered differently in
    different recordings is not a fact about the value alone."""
    facts = []
    for (param, value), answers in sorted(seen.items()):
        if len(answers) != 1:
            continue
        status, error_type, code, error_param = next(iter(answers))
        facts.append({"endpoint": endpoint, "param": param, "value": json.loads(value), "status": status,
                      "type": error_type, "code": code, "error_param": error_param})
    return facts


def derive_embeddings(recordings: Path) -> list[dict[str, Any]]:
    """Facts for embeddings: OpenAI's errors there name no ``param`` or ``code``, so the parameter is the one in
    which the request departs from a valid ``{"input": "hello"}``, and a shape counts only when every recording of
    it, whatever the model, got the same answer (``dimensions: 1536`` is accepted by one model and refused by
    another: not a fact about the value)."""
    with gzip.open(recordings, "rt", encoding="utf-8") as handle:
        scenarios = json.load(handle)
    seen: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
    for scenario in scenarios.values():
        response = scenario.get("response") or {}
        request = dict((scenario.get("scenario") or {}).get("requestBody") or {})
        if not request.pop("model", None):
            continue  # the model itself is what is wrong: a fact about models, not values
        changed = [k for k in {*request, *EMBEDDINGS_BASE} if request.get(k, "<absent>") != EMBEDDINGS_BASE.get(
            k, "<absent>")]
        if len(changed) != 1:
            continue
        param = changed[0]
        body = response.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        answer = (response.get("status"), *((error.get("type"), error.get("code"), error.get("param"))
                                            if isinstance(error, dict) else (None, None, None)))
        seen[(param, json.dumps(request.get(param, "<absent>"), sort_keys=True))].add(answer)
    return [fact for fact in _agreed(seen, "embeddings")
            if fact["status"] == 400 and fact["type"] == "invalid_request_error"]


@cache
def table() -> dict[str, Any]:
    text = resources.files("conformance.data").joinpath("openai-answers.json").read_text(encoding="utf-8")
    return json.loads(text)


def answer(param: str, value: Any, endpoint: str = "chat/completions") -> dict[str, Any]:
    """OpenAI's recorded answer to a request whose ``param`` is ``value``; KeyError when it was never recorded."""
    for fact in table()["facts"]:
        if fact["endpoint"] == endpoint and fact["param"] == param and fact["value"] == value:
            return fact
    raise KeyError(f"no recorded OpenAI answer for {param}={value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.judge.openai_answers", description=__doc__)
    parser.add_argument("command", choices=["derive"])
    parser.add_argument("recordings", type=Path, help="chatcompletions.results.json.gz")
    parser.add_argument("--embeddings", type=Path, help="embeddings.results.json.gz")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "data" / "openai-answers.json")
    args = parser.parse_args()
    derived = derive(args.recordings)
    if args.embeddings:
        derived["facts"] += derive_embeddings(args.embeddings)
    args.out.write_text(json.dumps(derived, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
