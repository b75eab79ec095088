"""Legal-but-unusual answers, generated from the pinned spec (tests/api/spec_corpus.py, SYNTHETIC): no finding at all.

Every optional field absent and present, every nullable as null, every enum value, plus the shapes the issue
tracker showed were flagged by mistake (refusal or audio beside null content, custom tool calls, a legacy
function call without tool calls). Skips without ../shared, where the spec bundle lives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import schemas
from conformance.checks import CheckContext, run_checks
from tests.api.spec_corpus import Corpus, replaced
from tests.conftest import need_reference

KINDS = {"CreateChatCompletionResponse": "chat.completion", "CreateEmbeddingResponse": "embeddings",
         "ErrorResponse": "error"}


def corpus() -> Corpus:
    bundle = json.loads(need_reference("openai-openapi", "openai-schemas.json").read_text())
    return Corpus(bundle["$defs"])


def coherent(kind: str, instance: Any) -> Any:
    """What a real answer keeps consistent whatever its optional fields: usage arithmetic and finish reasons."""
    if kind == "embeddings" and isinstance(instance.get("usage"), dict):
        instance["usage"]["total_tokens"] = instance["usage"]["prompt_tokens"]
    if kind == "chat.completion":
        for choice in instance.get("choices", []):
            calls = (choice.get("message") or {}).get("tool_calls")
            if calls and choice.get("finish_reason") == "stop":
                choice["finish_reason"] = "tool_calls"
    return instance


def findings(kind: str, instance: Any) -> list[tuple[str, str, str]]:
    ctx = CheckContext(kind, body=instance)
    return [(f.check, f.pointer, f.message) for f in run_checks(ctx)]


@pytest.mark.parametrize("name", list(KINDS))
def test_smallest_fullest_and_every_variant_give_no_finding(name: str) -> None:
    generator = corpus()
    kind = KINDS[name]
    schema = generator.defs[name]
    bad = []
    for full in (False, True):
        base = coherent(kind, generator.value(schema, name, full))
        bad += [("full" if full else "minimal", f) for f in findings(kind, base)]
        for path, value in generator.variants(schema, base):
            variant = replaced(base, path, value)
            if kind == "chat.completion" and path[-1:] == ("finish_reason",):
                calls = variant["choices"][path[1]]["message"].get("tool_calls")
                if (value == "tool_calls") != bool(calls):
                    continue  # a finish reason is legal only with (or without) the calls it speaks of
            bad += [("/".join(map(str, path)) + f"={value!r}", f) for f in findings(kind, variant)]
    assert not bad, bad[:8]


def test_every_chunk_variant_validates() -> None:
    generator = corpus()
    schema = generator.defs["CreateChatCompletionStreamResponse"]
    bad = []
    for full in (False, True):
        base = generator.value(schema, "chunk", full)
        for path, value in [((), None), *generator.variants(schema, base)]:
            variant = base if path == () else replaced(base, path, value)
            bad += [(path, value, f.pointer, f.message) for f in schemas.validate("chat.completion.chunk", variant)]
    assert not bad, bad[:8]


LEGAL_SHAPES = {
    "refusal beside null content": {"content": None, "refusal": "I can't help with that."},
    "audio beside null content": {"content": None, "audio": {"id": "audio_1", "data": "UklGRg==",
                                                             "expires_at": 1800000000, "transcript": "Hi"}},
    "legacy function call alone": {"content": None, "function_call": {"name": "get_weather", "arguments": "{}"}},
    "custom tool call": {"content": None, "tool_calls": [{"id": "call_1", "type": "custom",
                                                          "custom": {"name": "grep", "input": "x"}}]},
}


@pytest.mark.parametrize("shape", list(LEGAL_SHAPES))
def test_shapes_once_flagged_by_mistake_give_no_finding(shape: str) -> None:
    generator = corpus()
    base = coherent("chat.completion", generator.value(generator.defs["CreateChatCompletionResponse"], "r", False))
    base["choices"][0]["message"].update(LEGAL_SHAPES[shape])
    if LEGAL_SHAPES[shape].get("tool_calls"):
        base["choices"][0]["finish_reason"] = "tool_calls"
    elif "function_call" in LEGAL_SHAPES[shape]:
        base["choices"][0]["finish_reason"] = "function_call"
    assert findings("chat.completion", base) == []
