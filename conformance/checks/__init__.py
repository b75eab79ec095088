"""Every check the suite runs on a response: the schema first, then the registered behavioural checks."""

from __future__ import annotations

from conformance import schemas
from conformance.checks import chat, embeddings, errors, http, stream, tools  # noqa: F401  (registration)
from conformance.checks.registry import REGISTRY, Check, CheckContext, CheckCrashed, checks_for
from conformance.findings import Finding

__all__ = ["REGISTRY", "Check", "CheckContext", "CheckCrashed", "run_checks", "schema_findings"]


def schema_findings(ctx: CheckContext) -> list[Finding]:
    if ctx.kind == "stream":
        found: list[Finding] = []
        for number, chunk in enumerate(ctx.chunks):
            found.extend(schemas.validate("chat.completion.chunk", chunk, event=number))
        return found
    if ctx.kind == "embeddings" and _is_base64(ctx):
        return schemas.validate("embeddings.base64", ctx.body)
    return schemas.validate(ctx.kind, ctx.body)


def _is_base64(ctx: CheckContext) -> bool:
    if ctx.request is not None:
        return ctx.request.get("encoding_format") == "base64"
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    return isinstance(first.get("embedding"), str)


def run_checks(ctx: CheckContext) -> list[Finding]:
    """Schema findings plus every behavioural check that applies (those needing a request only when there is one)."""
    try:
        found = schema_findings(ctx)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise CheckCrashed(f"schema.{ctx.kind}", exc) from exc
    for registered in checks_for(ctx.kind, with_request=ctx.has_request):
        found.extend(registered.run(ctx))
    return found
