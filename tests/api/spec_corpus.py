"""A corpus of legal-but-unusual OpenAI answers, generated from the pinned spec's schema bundle (in ../shared).

SYNTHETIC: nothing here was sent by a server. For each response object it builds the smallest instance (required
fields only) and the fullest one (every optional field present), then one variant per nullable field set to null
and per enum value. Values are plausible where a behavioural check reads them (usage that adds up, a `created` in
seconds, log-probabilities below 0, JSON arguments), because the corpus tests the checks' tolerance of the
contract's shapes, not of nonsense.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

Path = tuple[str | int, ...]

VALUES: dict[str, Any] = {
    "id": "chatcmpl-corpus", "created": 1_700_000_000, "model": "gpt-4o-mini", "logprob": -0.25,
    "arguments": '{"location": "Paris"}', "prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,
    "index": 0, "content": "Hello there", "name": "get_weather", "input": "needle *.py",
    "system_fingerprint": "fp_corpus", "token": "Hello there", "bytes": list(b"Hello there"),
    "expires_at": 1_800_000_000,
    "data": "UklGRg==", "transcript": "Hello there", "url": "https://example.com/a", "title": "A page",
    "message": "Something went wrong", "type": "invalid_request_error", "param": "temperature",
    "code": "invalid_value", "start_index": 0, "end_index": 4,
}
# Deprecated or mutually exclusive fields that the fullest instance leaves out (each gets its own variant).
LEFT_OUT = {"function_call"}


class Corpus:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.defs[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def branches(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return [b for option in schema[key] for b in self.branches(option)]
        return [schema]

    def value(self, schema: dict[str, Any], name: str, full: bool) -> Any:
        options = [b for b in self.branches(schema) if b.get("type") != "null"] or self.branches(schema)
        node = options[0]
        kind = node.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if "enum" in node:
            return node["enum"][0]
        if "const" in node:
            return node["const"]
        if kind == "object":
            required = set(node.get("required", []))
            return {key: self.value(sub, key, full) for key, sub in node.get("properties", {}).items()
                    if key in required or (full and key not in LEFT_OUT)}
        if kind == "array":
            return [self.value(node.get("items", {}), name, full)] if name != "bytes" else VALUES["bytes"]
        if kind == "null":
            return None
        if name in VALUES and not isinstance(VALUES[name], list):
            return VALUES[name]
        return {"string": "text", "integer": 0, "number": -0.5, "boolean": False}.get(kind, "text")

    def variants(self, schema: dict[str, Any], instance: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
        """(path, alternative value): every nullable as null, every enum value, for the fields present."""
        branches = self.branches(schema)
        if any(b.get("type") == "null" or (isinstance(b.get("type"), list) and "null" in b["type"])
               for b in branches) and instance is not None:
            yield path, None
        node = next((b for b in branches if b.get("type") != "null"), branches[0])
        for value in node.get("enum", []):
            if value != instance:
                yield path, value
        if isinstance(instance, dict):
            for key, sub in node.get("properties", {}).items():
                if key in instance:
                    yield from self.variants(sub, instance[key], (*path, key))
        elif isinstance(instance, list) and instance and "items" in node:
            yield from self.variants(node["items"], instance[0], (*path, 0))


def replaced(instance: Any, path: Path, value: Any) -> Any:
    copied = copy.deepcopy(instance)
    node = copied
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copied
