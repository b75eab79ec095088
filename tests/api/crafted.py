"""Crafted deviations: a conformant answer (the SYNTHETIC stand-in's, tests/standin) for a catalogue case, and the
small edits that break it in one place, for the family tests that each check catches its deviation where it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.catalogue import case_by_id
from conformance.checks import CheckContext
from conformance.run.profiles import load_profile
from conformance.wire.sse import parse_stream
from tests.standin import server as standin

PROFILE = load_profile("tests/standin/standin.toml")


def conformant(case_id: str) -> CheckContext:
    case = case_by_id(case_id)
    request = case.request_body(PROFILE)
    ctx = CheckContext(kind=case.kind, operation=case.operation.id, request=request,
                       expect=case.expectations(PROFILE))
    reply = (standin.bad_key_reply() if case.invalid_key or case.no_key
             else standin.answer(case.path(PROFILE), request))
    ctx.status = reply.status
    if reply.events is not None:
        parsed = parse_stream(standin.sse_text(reply))
        ctx.chunks, ctx.done, ctx.event_names = parsed.chunks, parsed.done, parsed.event_names
    else:
        ctx.body = reply.body
    return ctx


@dataclass
class Deviation:
    check: str
    case: str
    mutate: Callable[[CheckContext], None]
    pointer: str
    event: int | None = None


def body(path: str, value: Any) -> Callable[[CheckContext], None]:
    def apply(ctx: CheckContext) -> None:
        node = ctx.body
        parts = path.strip("/").split("/")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[parts[-1]]
        elif isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value

    return apply


def chunk(number: int, path: str, value: Any) -> Callable[[CheckContext], None]:
    def apply(ctx: CheckContext) -> None:
        saved, ctx.body = ctx.body, ctx.chunks[number]
        body(path, value)(ctx)
        ctx.body = saved

    return apply


DELETE = object()


def fn(action: Callable[[CheckContext], Any]) -> Callable[[CheckContext], None]:
    def apply(ctx: CheckContext) -> None:
        action(ctx)

    return apply
