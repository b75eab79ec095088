"""Property-based tests of the schemas: generated valid instances give no finding, and breaking any required key
or any typed value gives a finding at exactly that JSON pointer."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import schemas
from conformance.model.findings import escape_token

ROOT = schemas.load_schema()
KINDS = {"chat.completion": "ChatCompletion", "chat.completion.chunk": "ChatCompletionChunk",
         "embeddings": "EmbeddingsResponse", "embeddings.base64": "EmbeddingsResponseBase64", "error": "ErrorResponse"}
Path = tuple[str | int, ...]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = ROOT["$defs"][node["$ref"].rsplit("/", 1)[1]]
    if "if" in node:  # a tool call: generate the function-call branch
        return resolve(node["else"])
    return node


def strategy(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    node = resolve(node)
    if "oneOf" in node:
        return st.one_of(*(strategy(option, depth) for option in node["oneOf"]))
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    types = node.get("type", "object")
    types = [types] if isinstance(types, str) else types
    return st.one_of(*(typed(kind, node, depth) for kind in types))


def typed(kind: str, node: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "string":
        return st.text(max_size=8)
    if kind == "integer":
        return st.integers(-(2**40), 2**40)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(strategy(node.get("items", {}), depth + 1), max_size=2 if depth < 4 else 0)
    properties = node.get("properties", {})
    required = node.get("required", [])
    optional = {} if depth > 5 else {k: strategy(v, depth + 1) for k, v in properties.items() if k not in required}
    return st.fixed_dictionaries({k: strategy(properties.get(k, {}), depth + 1) for k in required},
                                 optional=optional)


def walk(instance: Any, node: dict[str, Any], path: Path = ()) -> Iterator[tuple[Path, bool, dict[str, Any]]]:
    """(path, required?, schema) for every value in ``instance`` that its schema declares."""
    node = resolve(node)
    if "oneOf" in node:
        options = [resolve(o) for o in node["oneOf"]]
        node = next((o for o in options if o.get("type", "object") == "object"), node) if isinstance(
            instance, dict) else node
    if isinstance(instance, dict):
        for key, value in instance.items():
            if key in node.get("properties", {}):
                sub = node["properties"][key]
                yield (*path, key), key in node.get("required", []), sub
                yield from walk(value, sub, (*path, key))
    elif isinstance(instance, list) and "items" in node:
        for index, value in enumerate(instance):
            yield (*path, index), False, node["items"]
            yield from walk(value, node["items"], (*path, index))


def pointer(path: Path) -> str:
    return "".join("/" + escape_token(p) for p in path)


def remove(instance: Any, path: Path) -> None:
    for part in path[:-1]:
        instance = instance[part]
    del instance[path[-1]]


def replace(instance: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        instance = instance[part]
    instance[path[-1]] = value


instances = st.sampled_from(sorted(KINDS)).flatmap(
    lambda kind: st.tuples(st.just(kind), strategy({"$ref": f"#/$defs/{KINDS[kind]}"})))
# PROPERTY_EXAMPLES=2000 for a deeper search on demand.
FAST = settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances)
def test_generated_instances_are_valid(item: tuple[str, Any]) -> None:
    kind, instance = item
    assert schemas.validate(kind, instance) == []


@FAST
@given(instances, st.data())
def test_removing_a_required_key_is_found_at_its_pointer(item: tuple[str, Any], data: st.DataObject) -> None:
    kind, instance = item
    required = [p for p, is_required, _ in walk(instance, {"$ref": f"#/$defs/{KINDS[kind]}"}) if is_required]
    path = data.draw(st.sampled_from(required))
    broken = copy.deepcopy(instance)
    remove(broken, path)
    assert pointer(path) in [f.pointer for f in schemas.validate(kind, broken)]


@FAST
@given(instances, st.data())
def test_changing_a_type_is_found_at_its_pointer(item: tuple[str, Any], data: st.DataObject) -> None:
    kind, instance = item
    typed_paths = [p for p, _, node in walk(instance, {"$ref": f"#/$defs/{KINDS[kind]}"}) if resolve(node)]
    path = data.draw(st.sampled_from(typed_paths))
    broken = copy.deepcopy(instance)
    replace(broken, path, True)  # no value of these schemas may be a boolean
    assert pointer(path) in [f.pointer for f in schemas.validate(kind, broken)]
