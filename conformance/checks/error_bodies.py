"""Checks on error responses (OpenAI API reference: "Error codes"; the `{"error": {...}}` object)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity


@check("errors.status", "error", needs_request=True)
def status(ctx: CheckContext) -> Iterator[Finding]:
    """The HTTP status is the one OpenAI documents for this error."""
    wanted = ctx.expect.status
    if not wanted or ctx.status is None:
        return
    allowed = list(wanted) if isinstance(wanted, (list, tuple)) else [wanted]
    if ctx.status < 400:
        yield finding("errors.status", "", f"accepted an invalid request: HTTP {ctx.status} where OpenAI answers "
                      f"{' or '.join(map(str, allowed))}", expected=allowed, seen=ctx.status, severity=Severity.FAILURE)
    elif ctx.status not in allowed:
        raised = _sdk_exceptions(ctx.status, allowed)
        yield finding("errors.status", "", f"HTTP {ctx.status} where OpenAI answers {' or '.join(map(str, allowed))}"
                      f"{raised}", expected=allowed, seen=ctx.status)


# The exception class each OpenAI SDK (Python and Node.js alike) raises for a status: code that catches OpenAI's
# class misses the other (openai-python's _exceptions.py, openai-node's core/error.ts).
SDK_EXCEPTIONS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                  429: "RateLimitError"}


def _sdk_exceptions(status: int, allowed: list[int]) -> str:
    seen = SDK_EXCEPTIONS.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    wanted = " or ".join(SDK_EXCEPTIONS.get(s, "APIStatusError") for s in allowed)
    return "" if seen == wanted else f": the OpenAI SDKs raise {seen} where code written for OpenAI catches {wanted}"


OPENAI_ERROR_BODIES = ("genuine OpenAI error bodies in shared/reference/openai-recordings (1,672 answers: error.code "
                       "is null or a snake_case identifier, never a number; an unknown model is HTTP 404 "
                       "invalid_request_error with code model_not_found)")


@check("errors.code", "error", source=OPENAI_ERROR_BODIES)
def code(ctx: CheckContext) -> Iterator[Finding]:
    """`error.code` is null or a string identifier such as "model_not_found", not an HTTP status; where OpenAI's
    own answer to the request has a code, the server gives the same one."""
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        return
    value = error["code"]
    if isinstance(value, bool) or isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        yield finding("errors.code", "/error/code", f"error.code {value!r} is an HTTP status, not an identifier",
                      expected="null or an identifier such as 'invalid_value'", seen=value)
        return
    wanted = ctx.expect.error_code
    if wanted and value != wanted:
        yield finding("errors.code", "/error/code", f"error.code {value!r} where OpenAI answers {wanted!r}",
                      expected=wanted, seen=value)


@check("errors.param", "error", source=OPENAI_ERROR_BODIES)
def param(ctx: CheckContext) -> Iterator[Finding]:
    """`error.param` names the parameter that was wrong, as OpenAI's own answer to the same request does."""
    wanted = ctx.expect.error_param
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    if not wanted or not isinstance(error, dict):
        return
    if error.get("param") != wanted:
        yield finding("errors.param", "/error/param", f"error.param is {error.get('param')!r} where OpenAI names "
                      f"{wanted!r}", expected=wanted, seen=error.get("param"))


@check("errors.message", "error")
def message(ctx: CheckContext) -> Iterator[Finding]:
    """The error says what went wrong in a non-empty `error.message`."""
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str) and not error["message"].strip():
        yield finding("errors.message", "/error/message", "error message is empty", expected="text", seen="")


# The error type OpenAI is recorded answering with, per status (shared/reference/openai-recordings: 1,704 answers to
# HTTP 400 and 4 to HTTP 404, every one "invalid_request_error").
RECORDED_TYPES = {400: "invalid_request_error", 404: "invalid_request_error"}


@check("errors.type", "error", source=OPENAI_ERROR_BODIES + "; error.type is invalid_request_error on every 400 and "
                                      "404 recorded")
def error_type(ctx: CheckContext) -> Iterator[Finding]:
    """`error.type` is a snake_case category (OpenAI's own: `invalid_request_error` on every 400 and 404 it is
    recorded sending), not a class name or a status: clients branch on it."""
    import re

    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    value = error.get("type") if isinstance(error, dict) else None
    if not isinstance(value, str):
        return  # absent or mistyped: the schema's finding
    wanted = RECORDED_TYPES.get(ctx.status or 0)
    if wanted and value != wanted:
        yield finding("errors.type", "/error/type", f"error.type {value!r} where OpenAI answers HTTP {ctx.status} "
                      f"with {wanted!r}", expected=wanted, seen=value)
    elif not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", value):
        yield finding("errors.type", "/error/type", f"error.type {value!r} is not a snake_case category such as "
                      "'invalid_request_error'", expected="a snake_case category", seen=value)
