"""Findings: the unit of evidence every check returns and every report is made of."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard


class Severity(enum.StrEnum):
    """How much a finding hurts: a deviation departs from the contract, a failure breaks the feature."""

    DEVIATION = "deviation"
    FAILURE = "failure"


@dataclass(frozen=True)
class Finding:
    """One departure from the OpenAI contract, located precisely enough to act on.

    ``pointer`` is an RFC 6901 JSON pointer into the response body, or into chunk number ``event`` of a stream.
    """

    check: str
    pointer: str
    message: str
    severity: Severity = Severity.DEVIATION
    expected: Any = None
    seen: Any = None
    event: int | None = None
    known_gap: str | None = None  # id of the known-gaps manifest entry that expects this finding
    # "contract": holds for every answer whatever the model does; "behaviour": depends on what the model chose.
    nature: str = "contract"
    # In a repeated case (--repeat K), the samples (1-based) that showed it; None when every sample did.
    samples: tuple[int, ...] | None = None
    # In a conversation (a flow case), the step (1-based) whose exchange the pointer is into; None: a single step.
    step: int | None = None

    def on_samples(self, total: int) -> set[int]:
        return set(self.samples) if self.samples is not None else set(range(1, total + 1))

    def where(self) -> str:
        prefix = (f"step[{self.step}]" if self.step is not None else "") + (
            f"chunk[{self.event}]" if self.event is not None else "")
        return f"{prefix}{self.pointer or '/'}" if prefix else (self.pointer or "/")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        if self.samples is None:
            del data["samples"]
        else:
            data["samples"] = list(self.samples)
        if self.step is None:
            del data["step"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        samples = data.get("samples")
        return cls(**{**known, "severity": Severity(data.get("severity", "deviation")),
                      "samples": tuple(samples) if samples is not None else None})


def escape_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer from path parts: ``pointer("choices", 0, "index") == "/choices/0/index"``."""
    return "".join("/" + escape_token(p) for p in parts)


MISSING = object()  # what value_at gives where a pointer names nothing


def value_at(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901) of ``document``, or MISSING where there is none; never raises."""
    here = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(here, dict) and token in here:
            here = here[token]
        elif isinstance(here, list) and token.isdigit() and int(token) < len(here):
            here = here[int(token)]
        else:
            return MISSING
    return here


def is_count(value: Any) -> TypeGuard[int]:
    """A JSON integer (Python's bool is an int, and JSON's true is no count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded JSON value, for "expected X, saw Y" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
