"""Every check the suite runs on a response: the schema first, then the registered behavioural checks.

Importing this module registers every check: the modules of ``registry.MODULE_ORDER``, then each endpoint family's
``checks`` and ``stream_checks`` (conformance/api/<family>/), found without an edit.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

from conformance import schemas
from conformance.api import event_kind, families, is_stream
from conformance.checks.registry import (
    ALL_CHECKS,
    MODULE_ORDER,
    REGISTRY,
    Check,
    CheckContext,
    CheckCrashed,
    checks_for,
)
from conformance.model.findings import Finding

__all__ = ["REGISTRY", "Check", "CheckContext", "CheckCrashed", "run_checks", "schema_findings"]

for _module in MODULE_ORDER:
    importlib.import_module(_module)
families.import_each("checks")
families.import_each("stream_checks")


def schema_findings(ctx: CheckContext) -> list[Finding]:
    if is_stream(ctx.kind):  # each event against its own schema (the Responses API's: its type's), grouped as
        # collapse() would group them, so that a long stream of faulty events costs one finding per fault
        total = len(ctx.chunks)
        return [first if len(events) == 1 else _spread(first, events, total)
                for first, events in schemas.validate_events(event_kind(ctx.kind), ctx.chunks)]
    if ctx.kind == "embeddings" and _is_base64(ctx):
        return schemas.validate("embeddings.base64", ctx.body)
    if ctx.kind == "batch.output":  # a line that is not JSON is batch.output.jsonl's finding, not also the schema's
        unreadable = {f"/{index}" for index, _ in ctx.stream_problems}
        return [f for f in schemas.validate("batch.output", ctx.body) if f.pointer not in unreadable]
    return schemas.validate(ctx.kind, ctx.body)


def _is_base64(ctx: CheckContext) -> bool:
    if ctx.request is not None:
        return ctx.request.get("encoding_format") == "base64"
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    return isinstance(first.get("embedding"), str)


def run_checks(ctx: CheckContext) -> list[Finding]:
    """Schema findings plus every behavioural check that applies (those needing a request only when there is one)."""
    if ctx.judge_nested is None:
        ctx.judge_nested = run_checks
    try:
        found = schema_findings(ctx)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise CheckCrashed(f"schema.{ctx.kind}", exc) from exc
    selection = ctx.selection or ALL_CHECKS
    for registered in checks_for(ctx.kind, with_request=ctx.has_request, selection=selection):
        found.extend(registered.run(ctx))
    found = [f for f in found if selection.selected(f.check)]
    return collapse(found, len(ctx.chunks)) if is_stream(ctx.kind) else found


def collapse(findings: list[Finding], total: int) -> list[Finding]:
    """One finding per (check, pointer) in a stream, naming every chunk it was seen in, not one copy per chunk."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check, f.pointer, f.severity.value), []).append(f)
    out = []
    for group in groups.values():
        events = sorted({f.event for f in group if f.event is not None})
        if len(events) <= 1:
            out.extend(group[:1] if len(group) > 1 and len({f.message for f in group}) == 1 else group)
            continue
        first = min(group, key=lambda f: (f.event is None, f.event or 0))
        out.append(_spread(first, events, total))
    return out


def _spread(first: Finding, events: list[int], total: int) -> Finding:
    """The finding at its first chunk, saying every chunk it was seen in."""
    return replace(first, message=f"{first.message} (in {len(events)} of {total} chunks: {_ranges(events)})")


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
