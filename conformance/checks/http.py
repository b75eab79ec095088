"""Checks on the HTTP envelope: what the headers promise about the body."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.findings import Finding


@check("http.content_type", "chat.completion", "stream", "embeddings", "error")
def content_type(ctx: CheckContext) -> Iterator[Finding]:
    """JSON bodies say `application/json`; streams say `text/event-stream`."""
    if ctx.content_type is None:
        return
    wanted = "text/event-stream" if ctx.kind == "stream" else "application/json"
    media_type = ctx.content_type.split(";")[0].strip().lower()
    if media_type != wanted:
        yield finding("http.content_type", "", f"Content-Type is {ctx.content_type or 'missing'!r}",
                      expected=wanted, seen=ctx.content_type or None)
