"""The project's own OpenAI response schemas, compiled once per process.

A run validates thousands of stream chunks, so each validator is built a single time and reused; findings carry
the JSON pointer of the offending field, including the name of a missing required key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from conformance.api import ANSWERS, Answer, families
from conformance.model.findings import MISSING, Finding, Severity, escape_token, json_type, value_at

SCHEMA_FILE = "openai-responses.schema.json"

# What a response kind is validated against (names are $defs of SCHEMA_FILE): an error body, which any operation
# may answer, and each answer kind an endpoint family declares (conformance/api/<family>/__init__.py, ANSWERS).
ERROR_ANSWER = Answer("error", "ErrorResponse", "an error body")
KIND_DEFS: dict[str, str] = {answer.kind: answer.schema for answer in (ERROR_ANSWER, *ANSWERS.values())}


@cache
def load_schema() -> dict[str, Any]:
    """The schema bundle, with the ``$defs`` an endpoint family added since keeps beside its operations
    (conformance/api/<family>/schemas.json, a {"$defs": {...}} object): a name given twice is an error."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    bundle: dict[str, Any] = json.loads(text)
    for family in families.names():
        extra = resources.files(f"conformance.api.{family}").joinpath("schemas.json")
        if not extra.is_file():
            continue
        defs = json.loads(extra.read_text(encoding="utf-8")).get("$defs", {})
        clash = sorted(set(defs) & set(bundle["$defs"]))
        if clash:
            raise ValueError(f"conformance/api/{family}/schemas.json redefines {', '.join(clash)}")
        bundle["$defs"].update(defs)
    return bundle


@cache
def validator_for(definition: str) -> Draft202012Validator:
    root = load_schema()
    if definition not in root["$defs"]:
        raise KeyError(f"no schema definition {definition!r}")
    # The file itself is checked against the metaschema by the suite's tests (test_schemas.py), once, not on
    # every run: that check costs about 0.2 s per definition on this spec.
    return Draft202012Validator({**root, "$ref": f"#/$defs/{definition}"})


def schema_check_id(kind: str) -> str:
    return f"schema.{kind}"


# Keywords whose outcome depends on a value rather than on a type; their keys keep their values in a skeleton.
VALUE_KEYS = frozenset({"object", "role", "finish_reason", "type", "service_tier", "status", "purpose"})
# The only keywords the schema file may use: with these, validity is a function of the skeleton (see below).
# (No minItems, maxItems, uniqueItems, prefixItems, pattern, minLength, minimum, ...: those would need values.)
SKELETON_SAFE_KEYWORDS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "$ref", "title", "type", "required", "properties", "items", "enum",
     "const", "if", "then", "else", "oneOf", "allOf", "contentEncoding"}
)
_valid_skeletons: dict[str, set[Any]] = {}
# The findings of a skeleton found invalid, to be restated for the next document of that shape: a stream of
# 250,000 events that all lack one field is validated once, not 250,000 times (each full validation of a Responses
# event costs about a millisecond).
_invalid_skeletons: dict[str, dict[Any, list[Finding]]] = {}
_SKELETON_CACHE_LIMIT = 4096


def skeleton(value: Any, key: str | None = None, *, ordered: bool = False) -> Any:
    """A hashable stand-in for ``value`` that keeps exactly what the schema can see.

    The schema checks types, required keys and enumerated values only, so two documents with the same skeleton
    are both valid or both invalid; a stream's chunks share a handful of skeletons, which makes validation cheap.
    """
    if isinstance(value, dict):
        return ("{", *sorted((k, skeleton(v, k, ordered=ordered)) for k, v in value.items()))
    if isinstance(value, list):
        if ordered:  # where a finding is, not only whether there is one: each item at its index
            return ("[", tuple(skeleton(v, ordered=True) for v in value))
        # `items` is the only array keyword in use: validity depends on which item shapes occur, not on how many
        # or in which order (a 3,072-float vector has one shape).
        return ("[", frozenset(skeleton(v) for v in value))
    if isinstance(value, str):
        return ("s", value) if key in VALUE_KEYS else ("s",)
    if value is None:
        return ("n",)
    if isinstance(value, bool):
        return ("b",)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return ("i",)  # JSON Schema counts 1.0 as an integer
    if isinstance(value, float):
        return ("f",)
    return ("?", type(value).__name__)


def validate(kind: str, instance: Any, *, event: int | None = None) -> list[Finding]:
    """Validate one decoded JSON document; an empty list means it conforms."""
    found, reused = _validated(kind, instance, event)
    return [_restated(f, instance, event) for f in found] if reused else found


def validate_events(kind: str, events: list[Any]) -> list[tuple[Finding, list[int]]]:
    """Each event of a stream validated against ``kind``'s schema, grouped by what is wrong: (the finding at its
    first event, every event it holds for), in the order first seen. A stream of 250,000 events that all lack a
    field is one group, built without a finding object per event."""
    groups: dict[tuple[str, str, str], tuple[Finding, list[int]]] = {}
    for number, instance in enumerate(events):
        found, reused = _validated(kind, instance, number)
        for finding in found:
            key = (finding.check, finding.pointer, finding.severity.value)
            if key in groups:
                groups[key][1].append(number)
            else:
                groups[key] = (_restated(finding, instance, number) if reused else finding, [number])
    return list(groups.values())


def _validated(kind: str, instance: Any, event: int | None) -> tuple[list[Finding], bool]:
    """(the findings, whether they are an earlier document's of the exact same shape, to be restated): a valid
    skeleton is known at once, an invalid one is validated once."""
    definition = KIND_DEFS[kind]
    known_valid = _valid_skeletons.setdefault(definition, set())
    shape = skeleton(instance)
    if shape in known_valid:
        return [], False
    known_invalid = _invalid_skeletons.setdefault(definition, {})
    exact = skeleton(instance, ordered=True)  # an invalid document's findings name array indexes
    if exact in known_invalid:
        return known_invalid[exact], True
    validator = validator_for(definition)
    check = schema_check_id(kind.removesuffix(".base64"))
    errors = sorted(validator.iter_errors(instance), key=_error_order)
    if not errors and len(known_valid) < _SKELETON_CACHE_LIMIT:
        known_valid.add(shape)
    findings: dict[str, Finding] = {}
    for error in errors:  # one finding per pointer: `null` for an enum of strings is one problem, not two
        found = _to_finding(check, error, event)
        if found.pointer not in findings or error.validator == "type":
            findings[found.pointer] = found
    if findings and len(known_invalid) < _SKELETON_CACHE_LIMIT:
        known_invalid[exact] = list(findings.values())
    return list(findings.values()), False


def _restated(found: Finding, instance: Any, event: int | None) -> Finding:
    """A finding of an earlier document of the same skeleton, said of this one: its event, and what this document
    holds at the pointer (a value the skeleton does not keep may differ; a missing field stays "absent")."""
    if found.seen == "absent" and found.expected == "present":
        return replace(found, event=event)
    held = value_at(instance, found.pointer)
    if held is MISSING:
        return replace(found, event=event)
    seen = _short(held)
    message = found.message.replace(repr(found.seen), repr(seen)) if seen != found.seen else found.message
    return replace(found, event=event, seen=seen, message=message)


def _error_order(error: ValidationError) -> tuple[str, str]:
    return ("/".join(str(p) for p in error.absolute_path), error.message)


def _to_finding(check: str, error: ValidationError, event: int | None) -> Finding:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # A nullable object ("null or a Usage"): report what is wrong inside the branch the value was meant for,
        # not just "matches no branch" at the parent.
        inner = [e for e in error.context if e.validator != "type" or len(e.absolute_path) > len(error.absolute_path)]
        if inner:
            return _to_finding(check, max(inner, key=lambda e: len(e.absolute_path)), event)
    path = "".join("/" + escape_token(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = _missing_property(error)
        return Finding(
            check=check,
            pointer=f"{path}/{escape_token(missing)}",
            message=f"required field {missing!r} is missing",
            severity=Severity.DEVIATION,
            expected="present",
            seen="absent",
            event=event,
        )
    if error.validator == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        return Finding(
            check=check,
            pointer=path,
            message=f"expected {expected_text}, saw {json_type(error.instance)}",
            expected=expected_text,
            seen=_short(error.instance),
            event=event,
        )
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        return Finding(
            check=check,
            pointer=path,
            message=f"value {_short(error.instance)!r} is not one of {allowed}",
            expected=allowed,
            seen=_short(error.instance),
            event=event,
        )
    return Finding(
        check=check,
        pointer=path,
        message=error.message[:300],
        expected=f"{error.validator}: {_short(error.validator_value)}",
        seen=_short(error.instance),
        event=event,
    )


def _missing_property(error: ValidationError) -> str:
    instance = error.instance if isinstance(error.instance, dict) else {}
    for name in error.validator_value:
        if name not in instance and repr(name) in error.message:
            return name
    return next((n for n in error.validator_value if n not in instance), "?")


def _short(value: Any, limit: int = 120) -> Any:
    if isinstance(value, (dict, list)):
        text = json.dumps(value)
        return text if len(text) <= limit else text[: limit - 3] + "..."
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value
