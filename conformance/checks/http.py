"""Checks on the HTTP envelope: what the headers promise about the body."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.api import is_stream
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity


@check("http.content_type", "chat.completion", "stream", "embeddings", "error", "response",
       "responses.stream")
def content_type(ctx: CheckContext) -> Iterator[Finding]:
    """JSON bodies say `application/json`; streams say `text/event-stream`."""
    if ctx.content_type is None:
        return
    wanted = "text/event-stream" if is_stream(ctx.kind) else "application/json"
    media_type = ctx.content_type.split(";")[0].strip().lower()
    if media_type != wanted:
        yield finding("http.content_type", "", f"Content-Type is {ctx.content_type or 'missing'!r}",
                      expected=wanted, seen=ctx.content_type or None)


@check("http.encoding", "chat.completion", "stream", "embeddings", "error", "response",
       "responses.stream")
def encoding(ctx: CheckContext) -> Iterator[Finding]:
    """The body is UTF-8 (RFC 8259 section 8.1: JSON exchanged between systems is UTF-8), declared or not at all."""
    if ctx.encoding_problem:
        yield finding("http.encoding", "", ctx.encoding_problem, expected="UTF-8", seen=ctx.encoding_problem)


@check("json.duplicate_keys", "chat.completion", "stream", "embeddings", "error", "response",
       "responses.stream")
def duplicate_keys(ctx: CheckContext) -> Iterator[Finding]:
    """No object repeats a key (RFC 8259 section 4: names SHOULD be unique; parsers disagree on which one wins)."""
    for event, key in ctx.duplicate_keys:
        yield finding("json.duplicate_keys", "", f"an object repeats the {key}: clients may read either value",
                      expected="unique keys", seen=key, event=event)


@check("json.trailing", "chat.completion", "embeddings", "error", "models", "model", "images", "file",
       "file.deleted", "batch", "response", "response.deleted", "response.input_items", severity=Severity.FAILURE,
       source="RFC 8259 section 2: a JSON text is one value")
def trailing(ctx: CheckContext) -> Iterator[Finding]:
    """The body is one JSON value and nothing after it: stray stream lines or a second object after the answer make
    every strict reader (the SDKs' among them) refuse the whole body, though the answer before them is judged."""
    if ctx.trailing.strip():
        flat = " ".join(ctx.trailing.split())
        yield finding("json.trailing", "", "the JSON body is followed by more text", expected="nothing after the "
                      "value", seen=flat[:100])
