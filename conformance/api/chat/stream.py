"""What a stream adds up to: per choice, the text, the role deltas, the finish reasons and the tool calls.

Checks on streams work on this assembled view, so that "the stream's tool call" means the same thing as "the
message's tool call" of a non-streamed response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.model.findings import is_count


@dataclass
class StreamedCall:
    key: int
    index: int | None
    id: str | None = None
    type: str | None = None
    name: str | None = None
    argument_parts: list[str] = field(default_factory=list)
    argument_pieces: list[tuple[int, str, int]] = field(default_factory=list)  # (chunk, pointer, start offset)
    first_event: int = 0
    first_pointer: str = ""
    ids_seen: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    identity_events: set[int] = field(default_factory=set)  # deltas that (re)state id, type or function.name
    pointer_at: dict[int, str] = field(default_factory=dict)  # where the call's delta sits in each chunk


    @property
    def arguments(self) -> str:
        # Pieces are joined once: appending to a string attribute copies it each time (quadratic on big streams).
        return "".join(self.argument_parts)


@dataclass
class StreamedChoice:
    index: int
    content_parts: list[str] = field(default_factory=list)
    has_content: bool = False
    role_events: list[int] = field(default_factory=list)
    first_event: int = 0
    events: list[int] = field(default_factory=list)
    finish: list[tuple[int, Any]] = field(default_factory=list)
    calls: dict[int, StreamedCall] = field(default_factory=dict)
    missing_index: list[tuple[int, str]] = field(default_factory=list)
    positions: dict[int, int] = field(default_factory=dict)  # chunk number -> the choice's position in `choices`

    def at(self, event: int | None) -> str:
        """JSON pointer of this choice inside chunk ``event`` (by array position, not by its `index` value)."""
        return f"/choices/{self.positions.get(event, 0) if event is not None else 0}"

    @property
    def content(self) -> str:
        return "".join(self.content_parts)



def assemble(chunks: list[Any]) -> dict[int, StreamedChoice]:
    """Fold chunks into choices, tolerating any malformation (malformed parts are simply not folded in)."""
    choices: dict[int, StreamedChoice] = {}
    for number, chunk in enumerate(chunks):
        if not isinstance(chunk, dict) or not isinstance(chunk.get("choices"), list):
            continue
        for position, choice in enumerate(chunk["choices"]):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", position)
            index = index if is_count(index) else position
            state = choices.get(index)
            if state is None:
                state = choices[index] = StreamedChoice(index=index, first_event=number)
            state.events.append(number)
            state.positions.setdefault(number, position)
            if choice.get("finish_reason") is not None:
                state.finish.append((number, choice.get("finish_reason")))
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            if delta.get("role") is not None:  # a null role is the schema's finding, not a repeated role
                state.role_events.append(number)
            if isinstance(delta.get("content"), str):
                state.content_parts.append(delta["content"])
                state.has_content = state.has_content or bool(delta["content"])
            calls = delta.get("tool_calls")
            if isinstance(calls, list):
                _fold_calls(state, calls, number, f"/choices/{position}/delta/tool_calls")
    return choices


def _fold_calls(state: StreamedChoice, calls: list[Any], number: int, base: str) -> None:
    for position, call in enumerate(calls):
        if not isinstance(call, dict):
            continue
        where = f"{base}/{position}"
        index = call.get("index")
        if is_count(index):
            key: int = index
        else:
            # Without an index a client cannot tell a continuation from a new call; fold each as its own call.
            state.missing_index.append((number, where))
            key = -1 - len(state.missing_index)
        current = state.calls.get(key)
        if current is None:
            current = state.calls[key] = StreamedCall(
                key=key, index=index if is_count(index) else None, first_event=number, first_pointer=where
            )
        current.events.append(number)
        current.pointer_at[number] = where
        function = call.get("function")
        if call.get("id") or call.get("type") or (isinstance(function, dict) and function.get("name")):
            current.identity_events.add(number)
        if isinstance(call.get("id"), str) and call["id"]:
            current.ids_seen.append(call["id"])
            current.id = current.id or call["id"]
        if isinstance(call.get("type"), str):
            current.type = current.type or call["type"]
        function = call.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and function["name"]:
                current.name = current.name or function["name"]
            if isinstance(function.get("arguments"), str):
                offset = sum(len(part) for part in current.argument_parts)
                current.argument_pieces.append((number, where, offset))
                current.argument_parts.append(function["arguments"])
