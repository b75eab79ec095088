"""Checks on error responses (OpenAI API reference: "Error codes"; the `{"error": {...}}` object)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.findings import Finding, Severity


@check("errors.status", "error", needs_request=True)
def status(ctx: CheckContext) -> Iterator[Finding]:
    """The HTTP status is the one OpenAI documents for this error."""
    wanted = ctx.expect.get("status")
    if not wanted or ctx.status is None:
        return
    allowed = list(wanted) if isinstance(wanted, (list, tuple)) else [wanted]
    if ctx.status < 400:
        yield finding("errors.status", "", f"the request should have been rejected but got HTTP {ctx.status}",
                      expected=allowed, seen=ctx.status, severity=Severity.FAILURE)
    elif ctx.status not in allowed:
        yield finding("errors.status", "", f"HTTP {ctx.status} where OpenAI answers {' or '.join(map(str, allowed))}",
                      expected=allowed, seen=ctx.status)


@check("errors.message", "error")
def message(ctx: CheckContext) -> Iterator[Finding]:
    """The error says what went wrong in a non-empty `error.message`."""
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str) and not error["message"].strip():
        yield finding("errors.message", "/error/message", "error message is empty", expected="text", seen="")
