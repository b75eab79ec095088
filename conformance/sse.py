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
    done: bool = False
    events_after_done: int = 0
    # (event number, message) for events whose data is not JSON, and framing problems (event number -1).
    problems: list[tuple[int, str]] = field(default_factory=list)
    truncated: bool = False


def split_lines(text: str) -> list[str]:
    """Split on CRLF, LF or CR, as the event-stream grammar says (str.splitlines also splits on U+2028 etc.)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_events(text: str) -> tuple[list[SSEEvent], bool]:
    """Events in ``text``, and whether it ended mid-event (an event not closed by a blank line)."""
    events: list[SSEEvent] = []
    data: list[str] = []
    name: str | None = None
    last_id: str | None = None
    lines = split_lines(text)
    ends_with_newline = lines[-1] == ""
    if ends_with_newline:
        lines.pop()  # the terminator of the last line, not an empty line
    open_event = False
    for line in lines:
        if line == "":
            if data:
                events.append(SSEEvent("\n".join(data), name, last_id))
            data, name, open_event = [], None, False
            continue
        open_event = True
        if line.startswith(":"):
            open_event = bool(data)
            continue
        key, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value
        elif key == "id":
            last_id = value
    if data:
        # An event the server never closed with a blank line: keep its data, and report the stream as cut.
        events.append(SSEEvent("\n".join(data), name, last_id))
    return events, open_event or (not ends_with_newline and bool(lines))


def parse_stream(text: str) -> ParsedStream:
    """Decode an OpenAI-style stream: every event's data is a JSON chunk until ``data: [DONE]``."""
    events, truncated = parse_events(text)
    result = ParsedStream(truncated=truncated)
    for number, event in enumerate(events):
        if result.done:
            result.events_after_done += 1
            continue
        if event.data.strip() == DONE_SENTINEL:
            result.done = True
            continue
        try:
            result.chunks.append(json.loads(event.data))
        except ValueError as exc:
            result.problems.append((number, f"event {number} is not JSON ({exc.msg}): {event.data[:80]!r}"))
    return result


def serialise(events: list[str], *, newline: str = "\n") -> str:
    """Frame data payloads as an event stream (used by stand-in servers and property tests)."""
    out = []
    for data in events:
        out.extend(f"data: {line}" for line in data.split("\n"))
        out.append("")
    return newline.join(out) + newline if out else ""
