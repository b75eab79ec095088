"""Checks on a streamed Responses API answer: the order of its events, and what it says twice agreeing with itself
(OpenAI API reference, Responses: Streaming events; OpenAI's recorded streams in
shared/reference/openai-responses-recordings, each of which passes every check here).

A stream says every output item several times (added, its deltas, its ``.done`` events, ``output_item.done``, the
terminal response): each relation between two of those statements is a check, judged on the fold of the stream
(``stream.fold``) and pointed at the event that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.api.responses.stream import LIFECYCLE, TERMINAL, Folded, fold, part_text
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity

STREAMING = "OpenAI API reference, Responses: Streaming events"
RECORDED = "; OpenAI's recorded streams (shared/reference/openai-responses-recordings: every one)"


def _folded(ctx: CheckContext) -> Folded:
    """The stream's fold, made once per answer for the dozen checks that read it."""
    folded = ctx.derived.get("responses.fold")
    if not isinstance(folded, Folded):
        folded = ctx.derived["responses.fold"] = fold(ctx.chunks)
    return folded


@check("responses.stream.sequence", "responses.stream",
       source=f"{STREAMING}: every event's `sequence_number`, \"The sequence number for this event\"{RECORDED} "
              "numbers its events 0, 1, 2... in the order sent")
def sequence(ctx: CheckContext) -> Iterator[Finding]:
    """Events are numbered from 0 without gaps or repeats, in the order they come: a client that reconnects or
    orders events relies on it."""
    for number, event in enumerate(ctx.chunks):
        seen = event.get("sequence_number") if isinstance(event, dict) else None
        if seen != number:
            yield finding("responses.stream.sequence", "/sequence_number", f"event {number} is numbered {seen!r}",
                          expected=number, seen=seen, event=number)
            return  # one break shifts every number after it: say it once


@check("responses.stream.first", "responses.stream",
       source=f"{STREAMING}: `response.created`, \"An event that is emitted when a response is created\"{RECORDED} "
              "opens with it")
def first(ctx: CheckContext) -> Iterator[Finding]:
    """The stream opens with `response.created`: the SDKs' stream helpers take the response's id and settings from
    it."""
    if ctx.chunks:
        kind = ctx.chunks[0].get("type") if isinstance(ctx.chunks[0], dict) else None
        if kind != "response.created":
            yield finding("responses.stream.first", "/type", f"the stream opens with {kind!r}",
                          expected="response.created", seen=kind, event=0)


@check("responses.stream.terminal", "responses.stream", severity=Severity.FAILURE,
       source=f"{STREAMING}: a response ends with `response.completed`, `response.failed` or `response.incomplete`; "
              "the Python SDK's responses.stream() raises when no response.completed came")
def terminal(ctx: CheckContext) -> Iterator[Finding]:
    """Exactly one terminal event (`response.completed`, `.failed` or `.incomplete`) ends the stream, and nothing
    comes after it: without it a client never learns the response is over, or what it was."""
    folded = _folded(ctx)
    if not ctx.chunks:
        return
    if not folded.terminal:
        yield finding("responses.stream.terminal", "", "the stream ends without a terminal event",
                      expected=sorted(TERMINAL), seen=ctx.chunks[-1].get("type") if isinstance(ctx.chunks[-1], dict)
                      else None, event=len(ctx.chunks) - 1)
        return
    if len(folded.terminal) > 1:
        yield finding("responses.stream.terminal", "/type", f"{len(folded.terminal)} terminal events",
                      expected=1, seen=len(folded.terminal), event=folded.terminal[1])
    last = folded.terminal[-1]
    if last != len(ctx.chunks) - 1 or ctx.events_after_done:
        after = len(ctx.chunks) - 1 - last + ctx.events_after_done
        yield finding("responses.stream.terminal", "", f"{after} event(s) after the terminal event",
                      expected="nothing after it", seen=after, event=last + 1 if last + 1 < len(ctx.chunks) else last)


@check("responses.stream.done_sentinel", "responses.stream",
       source=f"{STREAMING}: the stream is typed events only (the chat stream's `data: [DONE]` is not among "
              f"them){RECORDED} sends none")
def done_sentinel(ctx: CheckContext) -> Iterator[Finding]:
    """No `data: [DONE]`: a Responses stream ends with its terminal event; the sentinel is the chat stream's, and
    a client reading typed events parses it as a broken event."""
    if ctx.done:
        yield finding("responses.stream.done_sentinel", "", "the stream sends the chat stream's [DONE] sentinel",
                      expected="no [DONE]", seen="[DONE]")


@check("responses.stream.chat_chunk", "responses.stream", severity=Severity.FAILURE,
       source=f"{STREAMING}; public reports of gateways leaking chat chunks into a Responses stream")
def chat_chunk(ctx: CheckContext) -> Iterator[Finding]:
    """No chat completion chunk inside a Responses stream: a Responses client finds no `type` it knows and loses the
    text."""
    for number, event in enumerate(ctx.chunks):
        if isinstance(event, dict) and ("choices" in event or event.get("object") == "chat.completion.chunk"):
            yield finding("responses.stream.chat_chunk", "", "a chat completion chunk inside a Responses stream",
                          expected="a typed Responses event", seen=event.get("object") or "choices", event=number)
            return


@check("responses.stream.event_name", "responses.stream",
       source=f"{STREAMING} (each event is named by its type){RECORDED} names each event by its type in the SSE "
              "`event:` field; WHATWG HTML, server-sent events: an `event:` field names the event that listeners "
              "receive")
def event_name(ctx: CheckContext) -> Iterator[Finding]:
    """Each event's SSE `event:` field is its `type`: browser EventSource listeners and several clients dispatch on
    the field, not the data. (A capture without its SSE framing, a JSON array of events, has no names to judge.)"""
    if not ctx.event_names:
        return
    for number, event in enumerate(ctx.chunks):
        kind = event.get("type") if isinstance(event, dict) else None
        name = ctx.event_names[number] if number < len(ctx.event_names) else None
        if isinstance(kind, str) and name != kind:
            said = f"is named {name!r}" if name is not None else "has no event: field"
            yield finding("responses.stream.event_name", "", f"event {number} ({kind}) {said}", expected=kind,
                          seen=name, event=number)
            return


@check("responses.stream.items", "responses.stream", severity=Severity.FAILURE,
       source=f"{STREAMING}: `output_index`, \"The index of the output item\", `item_id`, \"The ID of the output "
              "item\"; each item is announced by `response.output_item.added` before its other events")
def items(ctx: CheckContext) -> Iterator[Finding]:
    """Every event about an output item names an item already added, by its output index and its id, and each
    index is added once: the SDKs' accumulators file each delta under the item its index names."""
    for number, problem in _folded(ctx).strays:
        yield finding("responses.stream.items", "/output_index", problem, expected="an item added before, at that "
                      "index, with that id", seen=problem, event=number)


@check("responses.stream.item_order", "responses.stream",
       source=f"{STREAMING}: `output_index`, \"The index of the output item\" in the response's output{RECORDED} "
              "adds items at 0, 1, 2... and closes each (output_item.done) before the next is added")
def item_order(ctx: CheckContext) -> Iterator[Finding]:
    """Items are added at output indexes 0, 1, 2... in order, each closed before the next opens: a client that
    appends items as they come builds the response's output in its order."""
    for number, problem in _folded(ctx).order[:1]:
        yield finding("responses.stream.item_order", "/output_index", problem, expected="the next index, after "
                      "the previous item is done", seen=problem, event=number)


@check("responses.stream.item_done", "responses.stream",
       source=f"{STREAMING}: `response.output_item.done` (\"an output item is marked done\"), "
              f"`response.output_text.done`, `response.function_call_arguments.done`{RECORDED} closes every item, "
              "text part and call this way before response.completed")
def item_done(ctx: CheckContext) -> Iterator[Finding]:
    """A completed stream closes what it opened: every item with `output_item.done`, every text part that had
    deltas with its `.done` event, every call's arguments with `function_call_arguments.done`: clients that build
    the answer from events take the final value from these."""
    folded = _folded(ctx)
    final = folded.final
    if final is None or ctx.chunks[final[0]].get("type") != "response.completed":
        return
    for index, item in sorted(folded.items.items()):
        missing = [] if item.done is not None else ["output_item.done"]
        missing += [f"output_text.done for content {c}" for c, part in sorted(item.parts.items())
                    if part.deltas and part.done_text is None]
        if item.arguments and item.arguments_done is None:
            missing.append("function_call_arguments.done")
        if missing:
            yield finding("responses.stream.item_done", f"/output/{index}", f"item {index} is never closed: no "
                          f"{', no '.join(missing)}", expected="each item, part and call closed",
                          seen=missing[0], event=final[0])


@check("responses.stream.text", "responses.stream", severity=Severity.FAILURE,
       source=f"{STREAMING}: `response.output_text.delta` (\"an additional text delta\"), "
              "`response.output_text.done` (\"text content is finalized\"), `response.content_part.done`, and the "
              "completed response's output")
def text(ctx: CheckContext) -> Iterator[Finding]:
    """A text part's deltas add up to its `.done` text, to the part `content_part.done` restates, and to the part in
    the terminal response's output: a client shows the deltas and stores the final text, and both must be the
    answer."""
    folded = _folded(ctx)
    final = folded.final
    for index, item in sorted(folded.items.items()):
        for content_index, part in sorted(item.parts.items()):
            joined = part.joined if part.deltas else None
            statements: list[tuple[str, str | None, int | None]] = [
                ("its .done event", part.done_text, part.done_event),
                ("content_part.done", part_text(part.part_done), None)]
            restated = _final_part(final, index, content_index)
            if restated is not None:
                statements.append(("the terminal response", restated, final[0] if final else None))
            for what, value, event in statements:
                if joined is None or value is None or value == joined:
                    continue
                yield finding("responses.stream.text", f"/output/{index}/content/{content_index}", f"the deltas "
                              f"add up to {len(joined)} characters; {what} says {len(value)} that differ",
                              expected=joined[:80], seen=value[:80], event=event if event is not None
                              else part.first_delta)
                break


def _final_part(final: tuple[int, dict[str, Any]] | None, index: int, content_index: int) -> str | None:
    if final is None:
        return None
    output = final[1].get("output")
    item = output[index] if isinstance(output, list) and index < len(output) else None
    content = item.get("content") if isinstance(item, dict) else None
    part = content[content_index] if isinstance(content, list) and content_index < len(content) else None
    return part_text(part)


@check("responses.stream.summary", "responses.stream",
       source=f"{STREAMING}: `response.reasoning_summary_text.delta` (\"a delta is added to a reasoning summary "
              "text\"), `.done` (\"a reasoning summary text is completed\"), `response.reasoning_summary_part.done`, "
              "and the reasoning item's `summary` in the completed response (OpenAI's recorded 676-event stream "
              "states each summary the same four ways)")
def summary(ctx: CheckContext) -> Iterator[Finding]:
    """A reasoning summary's deltas add up to its `.done` text, to the part `reasoning_summary_part.done` restates,
    to the item `output_item.done` gives, and to the item in the terminal response: a client that shows the summary
    as it streams and one that reads the final response see the same summary."""
    folded = _folded(ctx)
    final = folded.final
    for index, item in sorted(folded.items.items()):
        for summary_index, part in sorted(item.summaries.items()):
            if not part.deltas:
                continue
            joined = part.joined
            statements: list[tuple[str, Any, int | None]] = [
                ("its .done event", part.done_text, part.done_event),
                ("reasoning_summary_part.done", part_text(part.part_done), None),
                ("output_item.done", _summary_text(item.done, summary_index), item.done_event),
                ("the terminal response", _summary_text(_final_item(final, index), summary_index),
                 final[0] if final else None)]
            for what, value, event in statements:
                if not isinstance(value, str) or value == joined:
                    continue
                yield finding("responses.stream.summary", f"/output/{index}/summary/{summary_index}/text",
                              f"the summary deltas add up to {len(joined)} characters; {what} says {len(value)} "
                              "that differ", expected=joined[:80], seen=value[:80],
                              event=event if event is not None else part.first_delta)
                break


def _summary_text(item: dict[str, Any] | None, summary_index: int) -> str | None:
    summaries = item.get("summary") if isinstance(item, dict) else None
    entry = summaries[summary_index] if isinstance(summaries, list) and summary_index < len(summaries) else None
    return entry.get("text") if isinstance(entry, dict) and isinstance(entry.get("text"), str) else None


@check("responses.stream.arguments", "responses.stream", severity=Severity.FAILURE,
       source=f"{STREAMING}: `response.function_call_arguments.delta` (\"a partial function-call arguments "
              "delta\") and `.done` (\"function-call arguments are finalized\"); the item in output_item.done")
def arguments(ctx: CheckContext) -> Iterator[Finding]:
    """A function call's argument deltas add up to its `.done` arguments, to the item `output_item.done` restates,
    and to the call in the terminal response: a client runs the function with what it assembled."""
    folded = _folded(ctx)
    final = folded.final
    for index, item in sorted(folded.items.items()):
        if item.added.get("type") != "function_call" or not item.arguments:
            continue
        joined = "".join(item.arguments)
        final_item = _final_item(final, index)
        statements = [("its .done event", item.arguments_done, item.arguments_done_event),
                      ("output_item.done", (item.done or {}).get("arguments"), item.done_event),
                      ("the terminal response", (final_item or {}).get("arguments"), final[0] if final else None)]
        for what, value, event in statements:
            if isinstance(value, str) and value != joined:
                yield finding("responses.stream.arguments", f"/output/{index}/arguments", f"the argument deltas "
                              f"add up to {joined[:60]!r}; {what} says {value[:60]!r}", expected=joined[:80],
                              seen=value[:80], event=event)
                break


def _final_item(final: tuple[int, dict[str, Any]] | None, index: int) -> dict[str, Any] | None:
    output = final[1].get("output") if final else None
    item = output[index] if isinstance(output, list) and index < len(output) else None
    return item if isinstance(item, dict) else None


@check("responses.stream.final_output", "responses.stream",
       source=f"{STREAMING}: `response.completed` carries \"Properties of the completed response\", its output the "
              "items the stream announced")
def final_output(ctx: CheckContext) -> Iterator[Finding]:
    """The terminal response's output is the items the stream announced, in order (same ids, types, call ids and
    names): a client that keeps the final response and one that keeps the events hold the same answer."""
    folded = _folded(ctx)
    final = folded.final
    if final is None or (folded.terminal and ctx.chunks[folded.terminal[-1]].get("type") != "response.completed"):
        return
    number, response = final
    output = response.get("output")
    if not isinstance(output, list):
        return
    if len(output) != len(folded.items):
        yield finding("responses.stream.final_output", "/response/output", f"the stream announced "
                      f"{len(folded.items)} output item(s); the terminal response holds {len(output)}",
                      expected=len(folded.items), seen=len(output), event=number)
        return
    for index, item in sorted(folded.items.items()):
        held = output[index] if index < len(output) and isinstance(output[index], dict) else {}
        for key in ("id", "type", "call_id", "name"):
            if item.added.get(key) is not None and held.get(key) != item.added.get(key):
                yield finding("responses.stream.final_output", f"/response/output/{index}/{key}", f"the item "
                              f"announced at output_index {index} has {key} {item.added.get(key)!r}; the terminal "
                              f"response says {held.get(key)!r}", expected=item.added.get(key), seen=held.get(key),
                              event=number)
                break


@check("responses.stream.status", "responses.stream",
       source=f"{STREAMING}: `response.completed`, `.failed`, `.incomplete` each carry the response in that status; "
              "`response.created` and `.in_progress` one still generating")
def status(ctx: CheckContext) -> Iterator[Finding]:
    """A lifecycle event's response has the status the event announces: completed in `response.completed`,
    incomplete in `.incomplete`, failed in `.failed`, and not yet finished in `response.created`."""
    for number, event in enumerate(ctx.chunks):
        kind = event.get("type") if isinstance(event, dict) else None
        response = event.get("response") if isinstance(event, dict) else None
        if not isinstance(response, dict) or "status" not in response:
            continue
        seen = response.get("status")
        if kind in TERMINAL and seen != TERMINAL[kind]:
            yield finding("responses.stream.status", "/response/status", f"{kind} carries a response with status "
                          f"{seen!r}", expected=TERMINAL[kind], seen=seen, event=number)
        elif kind == "response.created" and seen not in ("in_progress", "queued"):
            yield finding("responses.stream.status", "/response/status", f"response.created carries a response "
                          f"with status {seen!r}", expected="in_progress or queued", seen=seen, event=number)


@check("responses.stream.id", "responses.stream",
       source=f"{STREAMING}: every lifecycle event carries the same response (its `id`, \"Unique identifier for "
              "this Response\")")
def same_id(ctx: CheckContext) -> Iterator[Finding]:
    """Every lifecycle event names the same response id: a client continues the conversation
    (`previous_response_id`) with the id it read first."""
    first_id = None
    for number, event in enumerate(ctx.chunks):
        if not isinstance(event, dict) or event.get("type") not in LIFECYCLE or not isinstance(event.get("response"),
                                                                                              dict):
            continue
        seen = event["response"].get("id")
        if first_id is None:
            first_id = seen
        elif seen != first_id:
            yield finding("responses.stream.id", "/response/id", f"{event.get('type')} names response {seen!r}; "
                          f"the stream began with {first_id!r}", expected=first_id, seen=seen, event=number)
            return
