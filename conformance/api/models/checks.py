"""Checks on model listing and retrieval (OpenAI API reference: "Models": list, retrieve, the model object)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity


@check("models.listed", "models", severity=Severity.FAILURE, needs_request=False)
def listed(ctx: CheckContext) -> Iterator[Finding]:
    """GET /models lists the model the target serves (the profile's chat model): clients pick models from it."""
    wanted = ctx.expect.model_id
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    if not wanted or not isinstance(data, list):
        return
    ids = [m.get("id") for m in data if isinstance(m, dict)]
    if wanted not in ids and f"models/{wanted}" not in ids:
        yield finding("models.listed", "/data", f"the chat model {wanted!r} is not in the list",
                      expected=wanted, seen=ids[:10])


@check("models.retrieved", "model", severity=Severity.FAILURE)
def retrieved(ctx: CheckContext) -> Iterator[Finding]:
    """GET /models/{model} describes that model: its `id` is the one asked for."""
    wanted = ctx.expect.model_id
    if not wanted or not isinstance(ctx.body, dict):
        return
    seen = ctx.body.get("id")
    if seen not in (wanted, f"models/{wanted}"):
        yield finding("models.retrieved", "/id", f"asked for {wanted!r}, described {seen!r}", expected=wanted,
                      seen=seen)
