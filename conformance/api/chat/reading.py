"""The SDK-usability oracle: what an application gets from the SDK, compared with what the exchange says.

A conformant client reading of the raw exchange (per the OpenAI API reference: a streamed tool call's `id`, `type`
and `function.name` come once, on its first delta, and its `arguments` are the concatenation of every delta's
pieces) is set beside what each SDK assembled: the Python SDK's stream accumulator, the Node.js SDK's
`finalChatCompletion()`, or either SDK's parsed object. Any difference in a choice's text, finish reason, or a tool
call's count, id, name or arguments is a FAIL on that surface: an application built on that SDK gets the wrong
answer, however small the deviation on the wire looked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.api.chat.stream import assemble
from conformance.checks.registry import finding
from conformance.model.findings import Finding
from conformance.wire.sse import loads_checked, parse_stream


@dataclass
class Reading:
    content: str | None = None
    finish_reason: Any = None
    calls: list[tuple[Any, Any, Any]] = field(default_factory=list)  # (id, name, arguments)


def wire_reading(body: str, stream: bool) -> dict[int, Reading] | None:
    """Per choice index, what a conformant client reads from the raw body (None when it is unreadable)."""
    if stream:
        parsed = parse_stream(body)
        if parsed.problems or parsed.error:
            return None
        readings = {}
        for index, choice in assemble(parsed.chunks).items():
            ordered = sorted(choice.calls.values(), key=lambda call: call.first_event)
            streamed_calls = [(c.id, c.name, c.arguments) for c in ordered]
            finish = choice.finish[-1][1] if choice.finish else None
            readings[index] = Reading(choice.content if choice.has_content else None, finish, streamed_calls)
        return readings
    try:
        value, _ = loads_checked(body)
    except ValueError:
        return None
    choices = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(choices, list):
        return None
    readings = {}
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            return None
        message: dict[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
        calls = []
        for call in message.get("tool_calls") or []:
            function: dict[str, Any] = call["function"] if isinstance(call, dict) and isinstance(
                call.get("function"), dict) else {}
            calls.append((call.get("id") if isinstance(call, dict) else None, function.get("name"),
                          function.get("arguments")))
        index = choice.get("index", position)
        readings[index if isinstance(index, int) else position] = Reading(message.get("content"),
                                                                          choice.get("finish_reason"), calls)
    return readings


def sdk_reading(choices: list[dict[str, Any]]) -> dict[int, Reading]:
    """From a plain-data view of an SDK's choices: ``[{index, content, finish_reason, tool_calls: [{id, name,
    arguments}]}]`` (the Node.js worker reports it so; the Python surface builds it from the SDK's objects)."""
    readings = {}
    for position, choice in enumerate(choices):
        index = choice.get("index", position)
        calls = [(c.get("id"), c.get("name"), c.get("arguments")) for c in choice.get("tool_calls") or []]
        readings[index if isinstance(index, int) else position] = Reading(choice.get("content"),
                                                                          choice.get("finish_reason"), calls)
    return readings


def python_choices(completion: Any) -> list[dict[str, Any]]:
    """The plain-data view of an OpenAI Python SDK ChatCompletion (parsed or accumulated)."""
    out = []
    for choice in getattr(completion, "choices", None) or []:
        message = getattr(choice, "message", None)
        calls = []
        for call in getattr(message, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            calls.append({"id": getattr(call, "id", None), "name": getattr(function, "name", None),
                          "arguments": getattr(function, "arguments", None)})
        out.append({"index": getattr(choice, "index", None), "content": getattr(message, "content", None),
                    "finish_reason": getattr(choice, "finish_reason", None), "tool_calls": calls})
    return out


def compare(sdk: str, wire: dict[int, Reading] | None, got: dict[int, Reading], scrub: Any = None) -> list[Finding]:
    """Findings where the SDK's reading differs; ``scrub`` (a Scrubber) makes both sides comparable when one was
    scrubbed on its way here (a client's report) and the other is reassembled from pieces (a split key)."""
    if wire is None:
        return []  # the exchange itself is unreadable: that is the raw checks' finding, not the SDK's
    if scrub is not None:
        wire = {i: _scrubbed(r, scrub) for i, r in wire.items()}
        got = {i: _scrubbed(r, scrub) for i, r in got.items()}
    found = []

    def differ(pointer: str, what: str, expected: Any, seen: Any) -> None:
        found.append(finding("sdk.assembled", pointer, f"{sdk} gives {what} {_short(seen)!r} where the exchange "
                             f"says {_short(expected)!r}", expected=_short(expected), seen=_short(seen)))

    for index, want in sorted(wire.items()):
        have = got.get(index)
        base = f"/choices/{index}"
        if have is None:
            found.append(finding("sdk.assembled", base, f"{sdk} gives no choice {index}, which the exchange has",
                                 expected=f"choice {index}", seen=None))
            continue
        if not want.calls and (want.content or "") != (have.content or ""):
            differ(f"{base}/message/content", "the text", want.content, have.content)
        if want.finish_reason != have.finish_reason and want.finish_reason is not None:
            differ(f"{base}/finish_reason", "the finish reason", want.finish_reason, have.finish_reason)
        if len(want.calls) != len(have.calls):
            differ(f"{base}/message/tool_calls", "a number of tool calls", len(want.calls), len(have.calls))
            continue
        for position, (expected, seen) in enumerate(zip(want.calls, have.calls, strict=True)):
            for part, label, path in ((0, "the call id", "id"), (1, "the function name", "function/name"),
                                      (2, "the arguments", "function/arguments")):
                if expected[part] is not None and expected[part] != seen[part]:
                    differ(f"{base}/message/tool_calls/{position}/{path}", label, expected[part], seen[part])
    return found


def sdk_findings(outcome: Any, case: Any, scrub: Any = None) -> list[Finding]:
    """The one comparison every surface gets: what its SDK read (``outcome.sdk_choices``) against a conformant
    reading of the 2xx chat answer it was given."""
    exchange = outcome.exchange
    if outcome.sdk_choices is None or case.operation.id != "chat.create" or exchange is None or \
            exchange.status is None or not 200 <= exchange.status < 300:
        return []
    return compare(outcome.sdk_label, wire_reading(exchange.response_body, case.stream),
                   sdk_reading(outcome.sdk_choices), scrub)


def _scrubbed(reading: Reading, scrub: Any) -> Reading:
    return Reading(scrub.deep(reading.content), reading.finish_reason,
                   [tuple(scrub.deep(list(call))) for call in reading.calls])


def _short(value: Any, limit: int = 120) -> Any:
    return value[: limit - 3] + "..." if isinstance(value, str) and len(value) > limit else value
