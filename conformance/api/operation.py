"""What one operation of the OpenAI API is, declared once: the rest of the suite reads it from here.

An operation is a method and a path template (``batches/{batch_id}/cancel``), how its request body travels, which
kind of answer it gives (and which when the body asks for a stream), how that answer is decoded, which server of a
profile serves it, and the name of the method each SDK calls for it. A case names its operation through its path;
the surfaces map an operation to their client's call through one table each, so adding an operation is a line
here and one entry per surface's table, not a branch in every module that once switched on an endpoint string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard
from urllib.parse import quote

_PARAM = re.compile(r"\{(\w+)\}")


def segment(resource_id: str) -> str:
    """An id as one path segment, encoded as both OpenAI SDKs encode a path parameter (RFC 3986 pchar kept,
    everything else, ``/`` included, percent-encoded): the same bytes on the wire from every surface."""
    return quote(resource_id, safe="!$&'()*+,;=:@")


def plain_id(value: Any) -> TypeGuard[str]:
    """An id from an answer that the suite puts in a later URL: a string, printable, at most 2,048 characters (LiteLLM's
    response ids carry their deployment: 473 characters), with no whitespace, no ``? # % \\`` and no dot segment. It
    travels as one percent-encoded path segment (``segment``), so no character of it can steer the next request to
    another operation; a server that decodes %2F must not see a dot segment either (``resp_1/..``)."""
    if not isinstance(value, str) or not 0 < len(value) <= 2048:
        return False
    if any(c.isspace() or not c.isprintable() or c in "?#%\\" for c in value):
        return False
    return not {".", ".."} & set(value.split("/"))


def shown_id(value: Any) -> str:
    """A refused id as a report may quote it: its repr, cut to 80 characters (the report escapes it for its
    medium)."""
    return "no id" if value in (None, "") else f"{str(value)[:80]!r}"


@dataclass(frozen=True)
class Answer:
    """A kind of answer a family's operations give: the schema it is validated against (a ``$defs`` name of
    ``conformance/schemas/openai-responses.schema.json``), what the schema check says it validates, and the
    ``object`` the answer names, by which ``validate`` tells it from other answers ("" when it names none of its
    own)."""

    kind: str
    schema: str
    what: str
    object: str = ""


@dataclass(frozen=True)
class Operation:
    id: str  # "<family>.<verb>": stable, used by the surfaces' tables
    method: str  # the HTTP method
    path: str  # relative to the base URL, with {parameters}: each one path segment
    answer: str  # the kind of answer a check judges (conformance.checks.registry.KINDS)
    streamed: str = ""  # the kind when the request body says ``stream: true`` (its decoding is then "sse")
    events: str = ""  # the answer kind each event of that stream is validated as (its schema)
    body: str = "json"  # how the request body travels: "json", "multipart" or "none"
    decoding: str = "json"  # how the answer is decoded: "json" (one value), "sse" (named events), "jsonl" (lines)
    server: str = "base"  # which of a profile's servers serves it: "base" or "embeddings" (Profile.base_url_for)
    sdk_required: tuple[str, ...] = ()  # body fields the SDK method requires: left out on purpose, sent as omit
    section: str = ""  # where OpenAI's API reference documents it
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = "".join(f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
                        for index, part in enumerate(_PARAM.split(self.path)))
        object.__setattr__(self, "_pattern", re.compile(regex))

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    def match(self, endpoint: str) -> dict[str, str] | None:
        """The path parameters when ``endpoint`` (a filled path) is this operation's path, else None."""
        found = self._pattern.fullmatch(endpoint)
        return found.groupdict() if found else None

    def fill(self, **params: str) -> str:
        """The path with each parameter as one segment (``segment``: a slash in an id cannot make another
        operation)."""
        missing = set(self.params) - set(params)
        if missing:
            raise ValueError(f"{self.id} needs {', '.join(sorted(missing))}")
        return _PARAM.sub(lambda m: segment(params[m.group(1)]), self.path)

    def kind(self, body: dict[str, Any] | None) -> str:
        """The kind of answer to a request with ``body``."""
        if self.streamed and isinstance(body, dict) and body.get("stream") is True:
            return self.streamed
        return self.answer

    def decoding_for(self, body: dict[str, Any] | None) -> str:
        return "sse" if self.streamed and self.kind(body) == self.streamed else self.decoding
