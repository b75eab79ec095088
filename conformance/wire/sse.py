"""A strict-but-forgiving reader of Server-Sent Events, as the OpenAI streaming API emits them.

It follows the WHATWG event-stream rules (LF, CR or CRLF line ends; ``:`` comments; multi-line ``data``), so a
server's framing quirks become findings instead of exceptions. It never raises on malformed input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DONE_SENTINEL = "[DONE]"


@dataclass
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None


@dataclass
class ParsedStream:
    """What a stream delivered: its decoded JSON chunks, whether ``[DONE]`` closed it, and what was wrong."""

    chunks: list[Any] = field(default_factory=list)
    # Each chunk's event name (its ``event:`` field, None when it had none), in step with ``chunks``: a family
    # whose stream names its events (the Responses API's ``response.output_text.delta``...) reads them here.
    event_names: list[str | None] = field(default_factory=list)
    done: bool = False
    events_after_done: int = 0
    # A server-side failure reported inside the stream: (event number, the server's message).
    error: tuple[int, str] | None = None
    # Lines that are no SSE field at all but carry JSON (a chunk no client will ever see): (line number, text).
    stray_lines: list[tuple[int, str]] = field(default_factory=list)
    # Event blocks that carry fields but no data (a lone ``retry:`` or ``id:``): legal, and not chunks.
    dataless_blocks: int = 0
    # JSON object keys given twice in one chunk: (chunk number, pointer of the object).
    duplicate_keys: list[tuple[int | None, str]] = field(default_factory=list)
    # (event number, message) for events whose data is not JSON, and framing problems (event number -1).
    problems: list[tuple[int, str]] = field(default_factory=list)
    truncated: bool = False


def split_lines(text: str) -> list[str]:
    """Split on CRLF, LF or CR, as the event-stream grammar says (str.splitlines also splits on U+2028 etc.)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_events(text: str, stray: list[tuple[int, str]] | None = None,
                 dataless: list[int] | None = None) -> tuple[list[SSEEvent], bool]:
    """Events in ``text``, and whether it ended mid-event (an event not closed by a blank line).

    ``stray`` collects lines that are no field but look like JSON; ``dataless`` counts closed blocks that had
    fields (``retry:``, ``id:``, ``event:``) but no data.
    """
    events: list[SSEEvent] = []
    data: list[str] = []
    name: str | None = None
    last_id: str | None = None
    fields_seen = False
    # The WHATWG event-stream parser drops one leading U+FEFF BOM before anything else.
    lines = split_lines(text.removeprefix("\ufeff"))
    ends_with_newline = lines[-1] == ""
    if ends_with_newline:
        lines.pop()  # the terminator of the last line, not an empty line
    open_event = False
    for number, line in enumerate(lines):
        if line == "":
            if data:
                events.append(SSEEvent("\n".join(data), name, last_id))
            elif fields_seen and dataless is not None:
                dataless.append(number)
            data, name, open_event, fields_seen = [], None, False, False
            continue
        open_event = True
        if line.startswith(":"):
            open_event = bool(data) or fields_seen
            continue
        key, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value
            fields_seen = True
        elif key == "id":
            last_id = value
            fields_seen = True
        elif key == "retry":
            fields_seen = True
        elif stray is not None and line.lstrip().startswith(("{", "[")):
            stray.append((number, line[:120]))
    if data:
        # An event the server never closed with a blank line: keep its data, and report the stream as cut.
        events.append(SSEEvent("\n".join(data), name, last_id))
    return events, open_event or (not ends_with_newline and bool(lines))


def looks_like_event_stream(text: str) -> bool:
    """Whether a capture is an event stream: it is no JSON value (it does not open with ``{`` or ``[``) and a line
    of it is a ``data:`` field. Lines before it may be comments, other fields or unknown ones: the WHATWG rules
    ignore those, and so does this reader."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith(("{", "[")):
        return False
    return head.startswith(("data:", ":", "event:", "id:", "retry:")) or any(
        line.startswith("data:") for line in split_lines(head)[:10_000])


def parse_stream(text: str) -> ParsedStream:
    """Decode an OpenAI-style stream: every event's data is a JSON chunk until ``data: [DONE]``.

    An ``event: error`` block, or a data line holding an ``{"error": ...}`` object instead of a chunk, is the
    server reporting a failure mid-stream: kept as ``error`` with the server's message.
    """
    stray: list[tuple[int, str]] = []
    dataless: list[int] = []
    events, truncated = parse_events(text, stray, dataless)
    result = ParsedStream(truncated=truncated, stray_lines=stray, dataless_blocks=len(dataless))
    for number, event in enumerate(events):
        if result.done:
            result.events_after_done += 1
            continue
        if event.data.strip() == DONE_SENTINEL:
            result.done = True
            continue
        try:
            chunk, duplicates = loads_checked(event.data)
        except ValueError as exc:
            if event.event == "error" and result.error is None:
                result.error = (number, event.data.strip()[:300] or "no message")
                continue
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            result.problems.append((number, f"event {number} is not JSON ({message}): {event.data[:80]!r}"))
            continue
        if result.error is None and (event.event == "error" or _is_error_object(chunk)):
            result.error = (number, error_message(chunk) or event.data.strip()[:300])
            continue
        result.duplicate_keys.extend((len(result.chunks), where) for where in duplicates)
        result.chunks.append(chunk)
        result.event_names.append(event.event)
    return result


def _is_error_object(value: Any) -> bool:
    return isinstance(value, dict) and "error" in value and "choices" not in value


def error_message(value: Any) -> str:
    """The message of an OpenAI-style (or Google RPC style) error object, or ''."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]
    error = value.get("error") if isinstance(value, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("status") or "")[:300]
    if isinstance(error, str):
        return error[:300]
    return ""


MAX_DEPTH = 512


def loads_checked(text: str) -> tuple[Any, list[str]]:
    """Parse JSON: duplicate keys are reported (by the pointer of their object), excessive nesting is a ValueError,
    never a crash. The literals NaN, Infinity and -Infinity (not JSON: RFC 8259 section 6) are read as the floats
    they name, so that the answer is judged and the ``json.strict`` check reports each where it sits."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    def constant(name: str) -> Any:
        return float(name)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except RecursionError:
        raise ValueError("nested too deeply to parse") from None
    if depth_exceeds(value, MAX_DEPTH):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value, [f"key {key!r}" for key in duplicates]


def loads_leading(text: str) -> tuple[Any, list[str], str]:
    """Like ``loads_checked``, but a body whose JSON value is followed by more text (stray stream lines, a second
    object, a log line) still gives its first value, with the rest: the answer is judged, and the rest is the
    ``json.trailing`` finding (a strict reader, as every SDK's is, refuses the whole body). ValueError when not even
    the start of the text is a JSON value."""
    try:
        value, duplicates = loads_checked(text)
        return value, duplicates, ""
    except ValueError as exc:
        if "nested" in str(exc):
            raise
        stripped = text.lstrip("\ufeff \t\r\n")
        try:
            end = json.JSONDecoder().raw_decode(stripped)[1]
        except (ValueError, RecursionError):
            raise exc from None
        rest = stripped[end:]
        if not rest.strip():
            raise exc from None
        value, duplicates = loads_checked(stripped[:end])
        return value, duplicates, rest


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether a decoded JSON value nests deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def serialise(events: list[str], *, newline: str = "\n", names: list[str | None] | None = None) -> str:
    """Frame data payloads as an event stream (used by stand-in servers, property tests and the self-test), each
    with its ``event:`` name where ``names`` gives one."""
    out: list[str] = []
    for number, data in enumerate(events):
        name = names[number] if names is not None and number < len(names) else None
        if name is not None:
            out.append(f"event: {name}")
        out.extend(f"data: {line}" for line in data.split("\n"))
        out.append("")
    return newline.join(out) + newline if out else ""
