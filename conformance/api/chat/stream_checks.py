"""Checks on streamed chat completions (OpenAI API reference: "The chat completion chunk object", "Streaming")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.api.chat.checks import usage_findings
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity


@check("stream.events.json", "stream", "responses.stream", severity=Severity.FAILURE)
def events_json(ctx: CheckContext) -> Iterator[Finding]:
    """Every `data:` event before `[DONE]` is one JSON chunk."""
    for number, message in ctx.stream_problems:
        yield finding("stream.events.json", "", message, expected="JSON", seen="not JSON", event=number)


@check("stream.error_event", "stream", "responses.stream", severity=Severity.FAILURE)
def error_event(ctx: CheckContext) -> Iterator[Finding]:
    """The stream carries chunks, not an error report (an `event: error` block or an `{"error": ...}` data line);
    in a live run such a stream is an ERROR with the server's message, in `validate` this finding."""
    if ctx.stream_error is not None:
        number, message = ctx.stream_error
        yield finding("stream.error_event", "", f"the server reported an error mid-stream: {message}",
                      expected="chunks", seen="error event", event=number)


@check("stream.framing", "stream", "responses.stream", severity=Severity.FAILURE)
def framing(ctx: CheckContext) -> Iterator[Finding]:
    """Every chunk travels as a `data:` field (WHATWG event-stream; OpenAI API reference, "Streaming"): a JSON line
    without `data:` is ignored by every SSE client, so its content is lost."""
    for line, text in ctx.stray_lines:
        yield finding("stream.framing", "", f"line {line + 1} carries JSON without a 'data:' field, so SSE "
                      f"clients drop it: {text[:60]!r}", expected="data: <chunk>", seen=text[:60])


@check("stream.done.last", "stream")
def done_last(ctx: CheckContext) -> Iterator[Finding]:
    """Nothing follows `data: [DONE]`: clients stop reading there (OpenAI API reference, "Streaming")."""
    if ctx.events_after_done:
        yield finding("stream.done.last", "", f"{ctx.events_after_done} event(s) came after 'data: [DONE]'",
                      expected="[DONE] last", seen=f"{ctx.events_after_done} more event(s)", event=len(ctx.chunks))


@check("stream.chunks.present", "stream", "responses.stream", severity=Severity.FAILURE)
def chunks_present(ctx: CheckContext) -> Iterator[Finding]:
    """The stream delivers at least one chunk (a Responses stream: one event)."""
    if not ctx.chunks:
        yield finding("stream.chunks.present", "", "the stream delivered no chunk", expected=">= 1", seen=0)


@check("stream.done", "stream")
def done(ctx: CheckContext) -> Iterator[Finding]:
    """The stream ends with `data: [DONE]`."""
    if not ctx.done:
        how = "was cut off mid-event" if ctx.truncated else "ended"
        yield finding("stream.done", "", f"the stream {how} without 'data: [DONE]'", expected="[DONE]",
                      seen="end of stream", event=len(ctx.chunks))


def _same_everywhere(ctx: CheckContext, field: str) -> Iterator[Finding]:
    check_id = f"stream.{field}.consistent"
    first: Any = None
    for number, chunk in enumerate(ctx.chunks):
        if not isinstance(chunk, dict) or field not in chunk:
            continue  # an absent field is the schema's finding
        if first is None:
            first = chunk[field]
        elif chunk[field] != first:
            yield finding(check_id, f"/{field}", f"{field} changes within one stream", expected=first,
                          seen=chunk[field], event=number)


@check("stream.id.consistent", "stream")
def id_consistent(ctx: CheckContext) -> Iterator[Finding]:
    """Every chunk carries the same `id`."""
    yield from _same_everywhere(ctx, "id")


@check("stream.created.consistent", "stream")
def created_consistent(ctx: CheckContext) -> Iterator[Finding]:
    """Every chunk carries the same `created` timestamp."""
    yield from _same_everywhere(ctx, "created")


@check("stream.system_fingerprint.consistent", "stream")
def fingerprint_consistent(ctx: CheckContext) -> Iterator[Finding]:
    """Every chunk carries the same `system_fingerprint`: one backend configuration answers one request."""
    yield from _same_everywhere(ctx, "system_fingerprint")


@check("stream.model.consistent", "stream")
def model_consistent(ctx: CheckContext) -> Iterator[Finding]:
    """Every chunk names the same `model`."""
    yield from _same_everywhere(ctx, "model")


@check("stream.role.first", "stream")
def role_first(ctx: CheckContext) -> Iterator[Finding]:
    """The first delta of each choice says `role: "assistant"`, and later deltas do not repeat it."""
    for index, choice in sorted(ctx.streamed.items()):
        if choice.first_event not in choice.role_events:
            yield finding("stream.role.first", f"{choice.at(choice.first_event)}/delta/role",
                          f"the first delta of choice {index} has no role", expected="assistant", seen="absent",
                          event=choice.first_event)
        repeated = [n for n in choice.role_events if n != choice.first_event]
        if repeated:
            yield finding("stream.role.first", f"{choice.at(repeated[0])}/delta/role",
                          f"role is repeated in {len(repeated)} later delta(s) of choice {index}",
                          expected="role only in the first delta", seen="role repeated", event=repeated[0])


@check("stream.finish_reason.once", "stream", severity=Severity.FAILURE)
def finish_reason_once(ctx: CheckContext) -> Iterator[Finding]:
    """Each choice gets exactly one non-null `finish_reason`."""
    for index, choice in sorted(ctx.streamed.items()):
        if not choice.finish:
            last = choice.events[-1] if choice.events else None
            yield finding("stream.finish_reason.once", f"{choice.at(last)}/finish_reason",
                          f"choice {index} never got a finish_reason", expected="one finish_reason", seen=0)
        elif len(choice.finish) > 1:
            yield finding("stream.finish_reason.once", f"{choice.at(choice.finish[1][0])}/finish_reason",
                          f"choice {index} got {len(choice.finish)} finish_reasons", expected=1,
                          seen=len(choice.finish), event=choice.finish[1][0], severity=Severity.DEVIATION)


@check("stream.finish_reason.last", "stream")
def finish_reason_last(ctx: CheckContext) -> Iterator[Finding]:
    """`finish_reason` arrives on the last chunk of its choice: nothing of that choice follows it."""
    for index, choice in sorted(ctx.streamed.items()):
        if not choice.finish:
            continue
        finished_at = choice.finish[0][0]
        later = [n for n in choice.events if n > finished_at]
        if later:
            yield finding("stream.finish_reason.last", choice.at(later[0]),
                          f"choice {index} got more chunks after its finish_reason", expected="no later chunk",
                          seen=f"chunk {later[0]}", event=later[0])


@check("stream.usage.final_chunk", "stream", severity=Severity.FAILURE, needs_request=True)
def usage_final_chunk(ctx: CheckContext) -> Iterator[Finding]:
    """With `stream_options.include_usage`, a last chunk with `choices: []` carries the usage."""
    options = (ctx.request or {}).get("stream_options")
    if not (isinstance(options, dict) and options.get("include_usage")):
        return
    last = ctx.chunks[-1] if ctx.chunks else None
    if not isinstance(last, dict) or not isinstance(last.get("usage"), dict):
        carriers = [n for n, c in enumerate(ctx.chunks) if isinstance(c, dict) and isinstance(c.get("usage"), dict)]
        where = f"usage came on chunk {carriers[0]} instead" if carriers else "no chunk carried usage"
        yield finding("stream.usage.final_chunk", "/usage", f"include_usage was set but the last chunk has no "
                      f"usage ({where})", expected="usage object", seen="absent",
                      event=max(len(ctx.chunks) - 1, 0))
        return
    if last.get("choices") != []:
        yield finding("stream.usage.final_chunk", "/choices", "the usage chunk should have an empty choices list",
                      expected=[], seen=f"{len(last.get('choices') or [])} choice(s)", event=len(ctx.chunks) - 1,
                      severity=Severity.DEVIATION)


@check("stream.usage.placement", "stream")
def usage_placement(ctx: CheckContext) -> Iterator[Finding]:
    """Usage travels only on the final chunk, whose `choices` is empty, and only when
    `stream_options.include_usage` asked for it; every other chunk has `usage: null` or none."""
    options = (ctx.request or {}).get("stream_options")
    asked = isinstance(options, dict) and bool(options.get("include_usage"))
    refused = ctx.request is not None and not asked  # known not to be asked for: no usage anywhere
    last = len(ctx.chunks) - 1
    carriers = [n for n, c in enumerate(ctx.chunks) if isinstance(c, dict) and isinstance(c.get("usage"), dict)
                and (c.get("choices") or n != last or refused)]
    if carriers:
        where = "every chunk" if len(carriers) == len(ctx.chunks) else f"{len(carriers)} chunk(s)"
        why = "although include_usage was not asked for" if refused else "besides a final chunk with no choices"
        yield finding("stream.usage.placement", "/usage", f"usage on {where} {why}",
                      expected="usage only on the final chunk, with choices: []", seen="usage object",
                      event=carriers[0])


@check("stream.choices.empty", "stream")
def choices_empty(ctx: CheckContext) -> Iterator[Finding]:
    """A chunk with `choices: []` is the final usage chunk; one anywhere else carries nothing a client can use."""
    last = len(ctx.chunks) - 1
    for number, chunk in enumerate(ctx.chunks):
        if isinstance(chunk, dict) and chunk.get("choices") == [] and (
                number != last or not isinstance(chunk.get("usage"), dict)):
            yield finding("stream.choices.empty", "/choices", "a chunk with no choices that is not the final "
                          "usage chunk", expected="choices with a delta, or the final usage chunk", seen=[],
                          event=number)


@check("stream.usage.total", "stream")
def usage_total(ctx: CheckContext) -> Iterator[Finding]:
    """Usage in a stream adds up: `total_tokens = prompt_tokens + completion_tokens`."""
    for number, chunk in enumerate(ctx.chunks):
        if isinstance(chunk, dict):
            yield from usage_findings("stream.usage.total", chunk.get("usage"), "/usage", event=number)


@check("stream.tool_calls.index", "stream", severity=Severity.FAILURE)
def tool_calls_index(ctx: CheckContext) -> Iterator[Finding]:
    """Every tool-call delta carries `index`: without it a client cannot assemble the calls."""
    for _, choice in sorted(ctx.streamed.items()):
        for number, where in choice.missing_index:
            yield finding("stream.tool_calls.index", f"{where}/index", "tool-call delta without an index",
                          expected="integer", seen="absent", event=number)


@check("stream.tool_calls.first", "stream")
def tool_calls_first(ctx: CheckContext) -> Iterator[Finding]:
    """A streamed tool call states its `id` and `function.name` once each (OpenAI sends them, with `type`, on the
    call's first delta; only `index` is required on every delta): a call that never gets them cannot be answered,
    and one that repeats them is concatenated by accumulating clients."""
    for _, choice in sorted(ctx.streamed.items()):
        for call in choice.calls.values():
            stated: dict[str, list[int]] = {"id": [], "type": [], "function/name": []}
            for number in call.events:
                delta = _call_delta(ctx.chunks[number], call.pointer_at.get(number, call.first_pointer))
                for field, value in (("id", delta.get("id")), ("type", delta.get("type")),
                                     ("function/name", (delta.get("function") or {}).get("name")
                                      if isinstance(delta.get("function"), dict) else None)):
                    if value:
                        stated[field].append(number)
            for field in ("id", "function/name"):
                if not stated[field] and call.index is not None:
                    yield finding("stream.tool_calls.first", f"{call.first_pointer}/{field}",
                                  f"tool call {call.index} never states its {field.replace('/', '.')}",
                                  expected="present once", seen="absent", event=call.first_event)
            if len(set(call.ids_seen)) > 1:
                yield finding("stream.tool_calls.first", f"{call.first_pointer}/id",
                              f"deltas with index {call.index} carry {len(set(call.ids_seen))} different ids: "
                              "separate calls share one index", expected="one id per index",
                              seen=sorted(set(call.ids_seen)), severity=Severity.FAILURE)
                continue
            repeated = {field: events for field, events in stated.items() if len(events) > 1}
            if repeated:
                fields = ", ".join(field.replace("/", ".") for field in repeated)
                first_repeat = min(events[1] for events in repeated.values())
                counts = max(len(events) for events in repeated.values())
                yield finding("stream.tool_calls.first", call.pointer_at.get(first_repeat, call.first_pointer),
                              f"{fields} of call {call.index} sent on {counts} deltas: accumulating clients "
                              "concatenate them", expected="each stated once",
                              seen=f"sent on {counts} deltas", event=first_repeat)


def _call_delta(chunk: Any, where: str) -> dict[str, Any]:
    node: Any = chunk
    for part in where.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node.get(part, {})
    return node if isinstance(node, dict) else {}
