"""A Responses API event stream folded into what it says, once per answer: the checks compare its parts.

A stream says each thing several times: an output item is announced (``output_item.added``), filled by deltas
(text, function-call arguments), closed (``.done`` events, ``output_item.done``) and restated whole in the terminal
event's response. The fold keeps each statement apart, by the output index and item id its events name, so that a
check can say which two disagree and at which event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The events that end a response (OpenAI API reference, Responses streaming: "response.completed",
# "response.failed", "response.incomplete"), and the status each one's response carries.
TERMINAL = {"response.completed": "completed", "response.failed": "failed", "response.incomplete": "incomplete"}
# The events that carry the whole response object.
LIFECYCLE = ("response.created", "response.in_progress", "response.queued", *TERMINAL)


@dataclass
class Part:
    """One content part of a message item (or the reasoning text of a reasoning item)."""

    deltas: list[str] = field(default_factory=list)
    first_delta: int | None = None  # the event number of its first delta
    done_text: str | None = None  # what its ``.done`` event says
    done_event: int | None = None
    part_done: dict[str, Any] | None = None  # the part as content_part.done restates it

    @property
    def joined(self) -> str:
        return "".join(self.deltas)


@dataclass
class Item:
    """One output item, by its output index."""

    output_index: int
    added_event: int
    added: dict[str, Any]
    done: dict[str, Any] | None = None
    done_event: int | None = None
    parts: dict[int, Part] = field(default_factory=dict)  # content_index -> text deltas and their .done
    arguments: list[str] = field(default_factory=list)  # function_call_arguments deltas
    arguments_done: str | None = None
    arguments_done_event: int | None = None
    announced: set[int] = field(default_factory=set)  # content indexes content_part.added announced
    summaries: dict[int, Part] = field(default_factory=dict)  # summary_index -> a reasoning item's summary text

    @property
    def id(self) -> Any:
        return self.added.get("id")


@dataclass
class Folded:
    events: list[dict[str, Any]]
    items: dict[int, Item] = field(default_factory=dict)
    # (event number, what is wrong): an event that names an output index or item id no added item has, or an
    # item added twice at one index.
    strays: list[tuple[int, str]] = field(default_factory=list)
    terminal: list[int] = field(default_factory=list)  # event numbers of terminal events
    # (event number, what is out of order): an item added at another index than the next one, or added while the
    # one before it is still open (OpenAI streams items one after the other, each closed before the next opens).
    order: list[tuple[int, str]] = field(default_factory=list)
    # Output indexes added and not yet done, in the order they were added (kept as the fold goes, so that a stream
    # of 100,000 items is folded in linear time).
    open_items: dict[int, None] = field(default_factory=dict)

    @property
    def final(self) -> tuple[int, dict[str, Any]] | None:
        """The terminal event's response (its event number), when one came and carries a response."""
        if not self.terminal:
            return None
        number = self.terminal[-1]
        response = self.events[number].get("response")
        return (number, response) if isinstance(response, dict) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fold(chunks: list[Any]) -> Folded:
    """The stream's statements, by output item. Never raises on a malformed event: it is skipped or a stray."""
    events = [c if isinstance(c, dict) else {} for c in chunks]
    folded = Folded(events)
    for number, event in enumerate(events):
        kind = event.get("type")
        if not isinstance(kind, str):
            continue
        if kind in TERMINAL:
            folded.terminal.append(number)
            continue
        index = _int(event.get("output_index"))
        if index is None:
            continue
        if kind == "response.output_item.added":
            item: dict[str, Any] = event["item"] if isinstance(event.get("item"), dict) else {}
            if index in folded.items:
                folded.strays.append((number, f"a second item added at output_index {index}"))
                continue
            if index != len(folded.items):
                folded.order.append((number, f"an item added at output_index {index}, where the next index is "
                                             f"{len(folded.items)}"))
            if folded.open_items:
                folded.order.append((number, f"item {index} added while item {next(iter(folded.open_items))} is "
                                             "not done"))
            folded.items[index] = Item(index, number, item)
            folded.open_items[index] = None
            continue
        current = folded.items.get(index)
        if current is None:
            folded.strays.append((number, f"{kind} names output_index {index}, where no item was added"))
            continue
        item_id = event.get("item_id")
        if item_id is not None and item_id != current.id:
            folded.strays.append((number, f"{kind} names item_id {item_id!r}; the item added at output_index "
                                          f"{index} is {current.id!r}"))
            continue
        _take(current, kind, event, number, folded.strays)
        if kind == "response.output_item.done":
            folded.open_items.pop(index, None)
    return folded


# Text events of a message's content parts: each names a part that content_part.added announced first (the SDKs'
# accumulators index the item's content by it).
_PART_EVENTS = ("response.output_text.delta", "response.output_text.done", "response.refusal.delta",
                "response.refusal.done", "response.content_part.done")


# A reasoning item's summary, streamed part by part (OpenAI API reference, Responses streaming:
# response.reasoning_summary_part.added/.done, response.reasoning_summary_text.delta/.done), by summary_index.
_SUMMARY_EVENTS = ("response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
                   "response.reasoning_summary_part.done")


def _take(item: Item, kind: str, event: dict[str, Any], number: int, strays: list[tuple[int, str]]) -> None:
    content_index = _int(event.get("content_index"))
    if kind == "response.content_part.added" and content_index is not None:
        item.announced.add(content_index)
        return
    if kind in _PART_EVENTS and content_index is not None and content_index not in item.announced:
        strays.append((number, f"{kind} names content_index {content_index} of item {item.output_index}, which no "
                               "content_part.added announced"))
        return
    if kind == "response.output_item.done":
        item.done = event.get("item") if isinstance(event.get("item"), dict) else {}
        item.done_event = number
    elif kind in ("response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta") \
            and content_index is not None and isinstance(event.get("delta"), str):
        part = item.parts.setdefault(content_index, Part())
        part.first_delta = number if part.first_delta is None else part.first_delta
        part.deltas.append(event["delta"])
    elif kind in ("response.output_text.done", "response.refusal.done", "response.reasoning_text.done") \
            and content_index is not None:
        part = item.parts.setdefault(content_index, Part())
        value = event.get("refusal" if kind == "response.refusal.done" else "text")
        part.done_text, part.done_event = (value if isinstance(value, str) else None), number
    elif kind == "response.content_part.done" and content_index is not None and isinstance(event.get("part"), dict):
        item.parts.setdefault(content_index, Part()).part_done = event["part"]
    elif kind in _SUMMARY_EVENTS and _int(event.get("summary_index")) is not None:
        part = item.summaries.setdefault(event["summary_index"], Part())
        if kind == "response.reasoning_summary_text.delta" and isinstance(event.get("delta"), str):
            part.first_delta = number if part.first_delta is None else part.first_delta
            part.deltas.append(event["delta"])
        elif kind == "response.reasoning_summary_text.done":
            value = event.get("text")
            part.done_text, part.done_event = (value if isinstance(value, str) else None), number
        elif kind == "response.reasoning_summary_part.done" and isinstance(event.get("part"), dict):
            part.part_done = event["part"]
    elif kind == "response.function_call_arguments.delta" and isinstance(event.get("delta"), str):
        item.arguments.append(event["delta"])
    elif kind == "response.function_call_arguments.done":
        value = event.get("arguments")
        item.arguments_done = value if isinstance(value, str) else None
        item.arguments_done_event = number


def part_text(part: Any) -> str | None:
    """The text a content part holds (``text``, or ``refusal`` for a refusal part)."""
    if not isinstance(part, dict):
        return None
    value = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
    return value if isinstance(value, str) else None
