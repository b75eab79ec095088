"""The project's schemas agree with OpenAI's spec, accept genuine OpenAI traffic, and stay cheap to validate."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance import schemas
from conformance.checks import CheckContext, run_checks
from tests.conftest import need_reference

# Our definition -> the definition of the same object in the bundle extracted from the pinned spec.
PAIRS = {
    "ChatCompletion": "CreateChatCompletionResponse",
    "ChatCompletionMessage": "ChatCompletionResponseMessage",
    "FunctionToolCall": "ChatCompletionMessageToolCall",
    "CustomToolCall": "ChatCompletionMessageCustomToolCall",
    "ToolCallChunk": "ChatCompletionMessageToolCallChunk",
    "ChatCompletionChunk": "CreateChatCompletionStreamResponse",
    "ChatCompletionDelta": "ChatCompletionStreamResponseDelta",
    "CompletionUsage": "CompletionUsage",
    "EmbeddingsResponse": "CreateEmbeddingResponse",
    "Embedding": "Embedding",
    "ErrorResponse": "ErrorResponse",
    "Error": "Error",
    "TokenLogprob": "ChatCompletionTokenLogprob",
}


def resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node and len(node) <= 2:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def types_of(node: Any, root: dict[str, Any]) -> set[str]:
    node = resolve(node, root)
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    kind = node.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(kind)
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []):
            found |= types_of(option, root)
    return found


def enum_of(node: Any, root: dict[str, Any]) -> set[Any]:
    node = resolve(node, root)
    values = set(node.get("enum", [])) if isinstance(node, dict) else set()
    for key in ("anyOf", "oneOf"):
        for option in node.get(key, []) if isinstance(node, dict) else []:
            values |= enum_of(option, root)
    return values - {None}


def object_part(node: Any, root: dict[str, Any]) -> Any:
    """The object branch of a nullable (``anyOf [object, null]``) schema, where required/properties live."""
    node = resolve(node, root)
    if isinstance(node, dict) and "properties" not in node:
        for key in ("anyOf", "oneOf"):
            objects = [resolve(o, root) for o in node.get(key, []) if "object" in types_of(o, root)]
            if len(objects) == 1:
                return objects[0]
    return node


def compare(ours: Any, theirs: Any, our_root: dict[str, Any], their_root: dict[str, Any], where: str,
            problems: list[str], depth: int = 0) -> None:
    our_types, their_types = types_of(ours, our_root), types_of(theirs, their_root)
    if our_types and their_types and our_types != their_types:
        problems.append(f"{where}: types {sorted(our_types)} vs {sorted(their_types)}")
    if enum_of(ours, our_root) != enum_of(theirs, their_root):
        problems.append(f"{where}: enum {enum_of(ours, our_root)} vs {enum_of(theirs, their_root)}")
    ours, theirs = object_part(ours, our_root), object_part(theirs, their_root)
    if depth > 6 or not isinstance(ours, dict) or not isinstance(theirs, dict):
        return
    if set(ours.get("required", [])) != set(theirs.get("required", [])):
        problems.append(f"{where}: required {sorted(ours.get('required', []))} vs {sorted(theirs.get('required', []))}")
    their_props = theirs.get("properties", {})
    for name, sub in ours.get("properties", {}).items():
        if name in their_props:
            compare(sub, their_props[name], our_root, their_root, f"{where}.{name}", problems, depth + 1)
    if "items" in ours and "items" in theirs:
        compare(ours["items"], theirs["items"], our_root, their_root, f"{where}[]", problems, depth + 1)


@pytest.mark.parametrize("ours,theirs", PAIRS.items())
def test_schema_agrees_with_the_pinned_openai_spec(ours: str, theirs: str) -> None:
    bundle = json.loads(need_reference("openai-openapi", "openai-schemas.json").read_text())
    assert "f85dbe2" in bundle["x-source"]["commit"]
    root = schemas.load_schema()
    problems: list[str] = []
    compare(root["$defs"][ours], bundle["$defs"][theirs], root, bundle, ours, problems)
    assert not problems, "\n".join(problems)


def test_every_spec_property_we_validate_is_declared() -> None:
    """Properties the spec declares on the validated objects are declared here too (no silent gaps)."""
    bundle = json.loads(need_reference("openai-openapi", "openai-schemas.json").read_text())
    root = schemas.load_schema()
    ignored = {"metadata", "moderation", "obfuscation", "audio"}  # not part of the documented Gemini surface
    for ours, theirs in PAIRS.items():
        our_props = set(resolve(root["$defs"][ours], root).get("properties", {}))
        their_props = set(resolve(bundle["$defs"][theirs], bundle).get("properties", {})) - ignored
        assert their_props <= our_props, f"{ours} lacks {sorted(their_props - our_props)}"


def test_shipped_schema_file_is_a_valid_json_schema() -> None:
    """A run trusts the file (no metaschema check per process): this is where it is checked."""
    Draft202012Validator.check_schema(schemas.load_schema())
    for definition in schemas.KIND_DEFS.values():
        Draft202012Validator.check_schema({**schemas.load_schema(), "$ref": f"#/$defs/{definition}"})


def test_schema_uses_only_keywords_the_skeleton_cache_understands() -> None:
    def walk(node: Any) -> set[str]:
        if isinstance(node, dict):
            keys = set(node)
            for key, value in node.items():
                if key in ("properties", "$defs"):
                    for sub in value.values():
                        keys |= walk(sub)
                else:
                    keys |= walk(value)
            return keys
        if isinstance(node, list):
            return set().union(*(walk(v) for v in node)) if node else set()
        return set()

    assert walk(schemas.load_schema()) - {"description"} <= schemas.SKELETON_SAFE_KEYWORDS


def test_skeleton_cache_does_not_hide_a_type_change() -> None:
    good = {"error": {"message": "m", "type": "t", "param": None, "code": None}}
    assert schemas.validate("error", good) == []
    bad = {"error": {"message": "m", "type": "t", "param": None, "code": 400}}
    assert [f.pointer for f in schemas.validate("error", bad)] == ["/error/code"]
    flag = {"error": {"message": "m", "type": "t", "param": None, "code": False}}
    assert [f.pointer for f in schemas.validate("error", flag)] == ["/error/code"]


def test_an_invalid_shape_seen_again_is_said_of_the_new_document() -> None:
    """The findings of an invalid skeleton are reused for the next document of that shape (a long stream of faulty
    events is validated once): each keeps its own event number and the value it holds at the pointer."""
    first = {"error": {"message": "m", "type": "t", "param": None, "code": ["x"]}}
    second = {"error": {"message": "m", "type": "t", "param": None, "code": ["yy"]}}
    (one,) = schemas.validate("error", first, event=3)
    (two,) = schemas.validate("error", second, event=9)
    assert (one.pointer, one.event, one.seen) == ("/error/code", 3, '["x"]')
    assert (two.pointer, two.event, two.seen) == ("/error/code", 9, '["yy"]')


def test_an_invalid_item_is_found_at_its_own_index_whatever_was_seen_before() -> None:
    """Two lists with the same item shapes in another order: the finding names the index of each document's own
    faulty item (the reuse is keyed on the items in order, not on the set of their shapes)."""
    good = {"index": 0, "delta": {"content": "x"}, "logprobs": None, "finish_reason": None}
    bad = {"index": 1, "delta": {"content": "x"}, "logprobs": None, "finish_reason": "bogus"}
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    late = schemas.validate("chat.completion.chunk", {**chunk, "choices": [good, bad]})
    early = schemas.validate("chat.completion.chunk", {**chunk, "choices": [bad, good]})
    assert [f.pointer for f in late] == ["/choices/1/finish_reason"]
    assert [f.pointer for f in early] == ["/choices/0/finish_reason"]


def test_a_stream_of_faulty_events_is_one_group_per_fault_naming_every_event() -> None:
    events = [{"type": "response.output_text.delta", "delta": str(n)} for n in range(5000)]
    groups = schemas.validate_events("responses.event", events)
    assert [(f.pointer, f.event, len(numbers)) for f, numbers in groups if f.pointer == "/sequence_number"] == \
        [("/sequence_number", 0, 5000)]
    assert all(numbers == list(range(5000)) for _, numbers in groups)


def load_recordings(name: str) -> dict[str, Any]:
    path = need_reference("openai-recordings", name)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def test_genuine_openai_chat_traffic_yields_no_finding() -> None:
    """1,113 real 200 answers (streams as chunk lists) and the real error bodies: no finding at all."""
    findings, counted = [], {"completion": 0, "stream": 0, "chunks": 0, "error": 0}
    for entry in load_recordings("chatcompletions.results.json.gz").values():
        response = entry.get("response")
        if not response:
            continue
        request = entry["scenario"]["requestBody"]
        if response["status"] == 200 and isinstance(response["body"], list):
            ctx = CheckContext("stream", chunks=response["body"], done=True, request=request)
            counted["stream"] += 1
            counted["chunks"] += len(response["body"])
        elif response["status"] == 200:
            ctx = CheckContext("chat.completion", body=response["body"], request=request)
            counted["completion"] += 1
        else:
            ctx = CheckContext("error", body=response["body"], status=response["status"])
            counted["error"] += 1
        findings.extend((f.check, f.pointer, f.message) for f in run_checks(ctx))
    assert counted["completion"] + counted["stream"] == 1113 and counted["error"] >= 1669
    assert not findings, findings[:5]


def test_genuine_openai_embeddings_yield_no_finding() -> None:
    findings, seen = [], 0
    for entry in load_recordings("embeddings.results.json.gz").values():
        response = entry.get("response")
        if not response:
            continue
        request = entry["scenario"]["requestBody"]
        kind = "embeddings" if response["status"] == 200 else "error"
        ctx = CheckContext(kind, body=response["body"], request=request if kind == "embeddings" else None,
                           status=response["status"])
        seen += 1
        findings.extend((f.check, f.pointer, f.message) for f in run_checks(ctx))
    assert seen >= 50
    assert not findings, findings[:5]
