"""Checks on a Responses API answer: the response object, whether it came as one body or as a stream's terminal
event (OpenAI API reference, Responses: the response object; guides: Text generation, Function calling,
Structured outputs, Reasoning).

Each check judges one response wherever it sits (``responses_in``): the body of a non-streamed answer, or the
``response`` of a stream's terminal event, so that a request's obligations are judged the same way in both forms.
The stream's own relations (event order, indices, deltas) are in ``stream_checks.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from conformance.api.chat.checks import created_findings
from conformance.api.chat.relations import REASONING_BLOCK, REASONING_CLOSE, TOOL_MARKUP
from conformance.api.chat.tools import allowed_functions
from conformance.api.responses.stream import TERMINAL
from conformance.checks.registry import DEFAULT_SOURCES, CheckContext, check, finding
from conformance.model.findings import MISSING, Finding, Severity, is_count, value_at

DEFAULT_SOURCES.setdefault("responses", "OpenAI API reference, Responses: the response object; Streaming events")
BOTH = ("response", "responses.stream")
GUIDE_TOOLS = "OpenAI guide, Function calling (Responses API): function_call output items, `tool_choice`"
GUIDE_STRUCTURED = "OpenAI guide, Structured outputs: `text.format` with `json_schema` (strict) or `json_object`"


def responses_in(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], str, int | None]]:
    """Each response object the answer holds, with its JSON pointer and event number: the body, or the response
    of a stream's terminal event (the last one, when a stream wrongly sends several)."""
    if ctx.kind == "response":
        if isinstance(ctx.body, dict):
            yield ctx.body, "", None
        return
    for number in range(len(ctx.chunks) - 1, -1, -1):
        event = ctx.chunks[number]
        if isinstance(event, dict) and event.get("type") in TERMINAL:
            if isinstance(event.get("response"), dict):
                yield event["response"], "/response", number
            return


def items_of(response: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    output = response.get("output")
    return [(i, item) for i, item in enumerate(output) if isinstance(item, dict)] if isinstance(output, list) else []


def calls_of(response: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in items_of(response) if item.get("type") == "function_call"]


def texts_of(response: dict[str, Any]) -> list[tuple[str, str]]:
    """(pointer, text) of every output_text part of every message item."""
    found = []
    for i, item in items_of(response):
        content = item.get("content") if item.get("type") == "message" else None
        for j, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                found.append((f"/output/{i}/content/{j}/text", part["text"]))
    return found


@check("responses.status.details", *BOTH,
       source="OpenAI API reference, the response object: `incomplete_details`, \"Details about why the response "
              "is incomplete\"; `error`, \"An error object returned when the model fails to generate a Response\"")
def status_details(ctx: CheckContext) -> Iterator[Finding]:
    """A response's status and the fields that explain it agree: `incomplete` comes with `incomplete_details`
    (its reason), `failed` with `error`, and a `completed` response carries neither."""
    for response, base, event in responses_in(ctx):
        status = response.get("status")
        details, error = response.get("incomplete_details"), response.get("error")
        if status == "incomplete" and not (isinstance(details, dict) and details.get("reason")):
            yield finding("responses.status.details", f"{base}/incomplete_details", "status is incomplete and "
                          "incomplete_details gives no reason", expected="{reason: ...}", seen=details, event=event)
        elif status == "failed" and not isinstance(error, dict):
            yield finding("responses.status.details", f"{base}/error", "status is failed and error is empty",
                          expected="an error object", seen=error, event=event)
        elif status == "completed":
            if isinstance(details, dict) and details:
                yield finding("responses.status.details", f"{base}/incomplete_details", "a completed response "
                              "says why it is incomplete", expected=None, seen=details, event=event)
            if isinstance(error, dict) and error:
                yield finding("responses.status.details", f"{base}/error", "a completed response carries an "
                              "error", expected=None, seen=error, event=event)


@check("responses.created_at.seconds", *BOTH,
       source="OpenAI API reference, the response object: `created_at`, \"Unix timestamp (in seconds) of when this "
              "Response was created\"")
def created_at_seconds(ctx: CheckContext) -> Iterator[Finding]:
    """`created_at` is a Unix time in seconds, not milliseconds (judged on the body, or on the response of the
    stream's first lifecycle event and its terminal one)."""
    if ctx.kind == "response":
        if isinstance(ctx.body, dict):
            yield from created_findings("responses.created_at.seconds", ctx.body.get("created_at"), "/created_at")
        return
    seen: set[Any] = set()
    for number, event in enumerate(ctx.chunks):
        response = event.get("response") if isinstance(event, dict) else None
        value = response.get("created_at") if isinstance(response, dict) else None
        if value is not None and value not in seen:
            seen.add(value)
            yield from created_findings("responses.created_at.seconds", value, "/response/created_at", number)


@check("responses.usage.total", *BOTH,
       source="OpenAI API reference, the response usage object: `total_tokens`, \"The total number of tokens "
              "used\" (input plus output in every recorded OpenAI answer)")
def usage_total(ctx: CheckContext) -> Iterator[Finding]:
    """`total_tokens` is `input_tokens` + `output_tokens`: clients bill and budget from either."""
    for response, base, event in responses_in(ctx):
        usage = response.get("usage")
        if not isinstance(usage, dict):
            continue
        given, made, total = usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens")
        if is_count(given) and is_count(made) and is_count(total) and given + made != total:
            yield finding("responses.usage.total", f"{base}/usage/total_tokens", f"total_tokens ({total}) is not "
                          f"input_tokens + output_tokens ({given} + {made})", expected=given + made, seen=total,
                          event=event)


_USAGE_PARTS = (("input_tokens_details", "cached_tokens", "input_tokens"),
                ("output_tokens_details", "reasoning_tokens", "output_tokens"))


@check("responses.usage.counted", *BOTH,
       source="OpenAI API reference, the response usage object: `input_tokens`, \"The number of input tokens\", "
              "`output_tokens`, \"The number of output tokens\" (never 0 for an answered request in OpenAI's "
              "recorded answers)")
def usage_counted(ctx: CheckContext) -> Iterator[Finding]:
    """A completed response's usage counts what happened: some input tokens (there was input), and some output
    tokens when the output holds text or a call (a usage of zeros is a server that does not count)."""
    for response, base, event in responses_in(ctx):
        usage = response.get("usage")
        if response.get("status") != "completed" or not isinstance(usage, dict):
            continue
        if usage.get("input_tokens") == 0 and is_count(usage.get("input_tokens")):
            yield finding("responses.usage.counted", f"{base}/usage/input_tokens", "input_tokens is 0 for a "
                          "request that had input", expected="> 0", seen=0, event=event)
        produced = bool(calls_of(response)) or any(text for _, text in texts_of(response))
        if produced and usage.get("output_tokens") == 0 and is_count(usage.get("output_tokens")):
            yield finding("responses.usage.counted", f"{base}/usage/output_tokens", "output_tokens is 0 for a "
                          "response that holds output", expected="> 0", seen=0, event=event)


@check("responses.items.status", *BOTH,
       source="OpenAI API reference, output items: `status`, \"One of in_progress, completed, or incomplete\" "
              "(every item of a completed response says completed in OpenAI's recorded answers)")
def items_status(ctx: CheckContext) -> Iterator[Finding]:
    """A completed response holds completed items: an item still `in_progress` (or `incomplete`) in it contradicts
    the response's own status, and clients that wait for items to complete wait forever."""
    for response, base, event in responses_in(ctx):
        if response.get("status") != "completed":
            continue
        for i, item in items_of(response):
            if item.get("status") not in (None, "completed"):
                yield finding("responses.items.status", f"{base}/output/{i}/status", f"a completed response "
                              f"holds an item whose status is {item.get('status')!r}", expected="completed",
                              seen=item.get("status"), event=event)


@check("responses.usage.parts", *BOTH,
       source="OpenAI API reference, the response usage object: `input_tokens_details` and "
              "`output_tokens_details`, \"A detailed breakdown\" of the input and output tokens")
def usage_parts(ctx: CheckContext) -> Iterator[Finding]:
    """Each detail is a part of the count it details (cached within input, reasoning within output), and no count
    is negative."""
    for response, base, event in responses_in(ctx):
        usage = response.get("usage")
        if not isinstance(usage, dict):
            continue
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            if is_count(usage.get(key)) and usage[key] < 0:
                yield finding("responses.usage.parts", f"{base}/usage/{key}", f"{key} is negative",
                              expected=">= 0", seen=usage[key], event=event)
        for details_key, part, whole_key in _USAGE_PARTS:
            details, whole = usage.get(details_key), usage.get(whole_key)
            value = details.get(part) if isinstance(details, dict) else None
            if is_count(value) and is_count(whole) and not 0 <= value <= whole:
                yield finding("responses.usage.parts", f"{base}/usage/{details_key}/{part}", f"{part} ({value}) is "
                              f"not a part of {whole_key} ({whole})", expected=f"0..{whole}", seen=value,
                              event=event)


@check("responses.items.unique", *BOTH,
       source="OpenAI API reference, the response object: each output item's `id`, \"The unique ID\"; a function "
              "call's `call_id`, \"The unique ID of the function tool call generated by the model\"")
def items_unique(ctx: CheckContext) -> Iterator[Finding]:
    """No two output items share an `id`, no two function calls a `call_id`: a client answers each call by its
    `call_id`, and two calls with one id cannot both be answered."""
    for response, base, event in responses_in(ctx):
        for field, items in (("id", items_of(response)), ("call_id", calls_of(response))):
            seen: dict[Any, int] = {}
            for i, item in items:
                value = item.get(field)
                if not isinstance(value, str) or not value:
                    continue
                if value in seen:
                    yield finding("responses.items.unique", f"{base}/output/{i}/{field}", f"output items {seen[value]} "
                                  f"and {i} share the {field} {value!r}", expected="unique", seen=value, event=event)
                seen.setdefault(value, i)


@check("responses.function_call.arguments", *BOTH, severity=Severity.FAILURE,
       source="OpenAI API reference, function tool call: `arguments`, \"A JSON string of the arguments to pass to "
              "the function\"")
def call_arguments(ctx: CheckContext) -> Iterator[Finding]:
    """A function call's `arguments` is a JSON object in a string: what every client hands to `json.loads` (or
    `JSON.parse`) before running the function."""
    for response, base, event in responses_in(ctx):
        for i, item in calls_of(response):
            arguments = item.get("arguments")
            try:
                value = json.loads(arguments) if isinstance(arguments, str) else None
            except ValueError:
                value = None
            if not isinstance(value, dict):
                yield finding("responses.function_call.arguments", f"{base}/output/{i}/arguments", "the arguments "
                              "are not a JSON object", expected="a JSON object as a string",
                              seen=str(arguments)[:100], event=event)


@check("responses.output_text.reasoning", *BOTH, severity=Severity.FAILURE,
       source="OpenAI guide, Reasoning: reasoning comes as `reasoning` output items, kept out of the message "
              "text (`output_text`)")
def reasoning_in_text(ctx: CheckContext) -> Iterator[Finding]:
    """The message's text is the answer: a reasoning block (`<think>...</think>`) or its closing tag inside an
    `output_text` part is shown to the user as if it were the answer."""
    for response, base, event in responses_in(ctx):
        for pointer, text in texts_of(response):
            block = REASONING_BLOCK.match(text)
            closing = REASONING_CLOSE.search(text)
            if block or closing:
                tag = (block or closing).group(1)  # type: ignore[union-attr]
                yield finding("responses.output_text.reasoning", f"{base}{pointer}", f"the text holds the model's "
                              f"reasoning in a <{tag}> block", expected="the answer only (reasoning items apart)",
                              seen=f"</{tag}>", event=event)


@check("responses.output_text.tool_markup", *BOTH, severity=Severity.FAILURE,
       source="OpenAI guide, Function calling: calls come back as `function_call` output items; public reports of "
              "calls left as chat-template text (vLLM, Ollama, llama.cpp)")
def tool_markup(ctx: CheckContext) -> Iterator[Finding]:
    """A call travels as a `function_call` item, not as the chat template's markup in `output_text` (judged when
    the request declared tools, or for a capture judged alone)."""
    if ctx.request is not None and not ctx.request.get("tools"):
        return
    for response, base, event in responses_in(ctx):
        for pointer, text in texts_of(response):
            match = TOOL_MARKUP.search(text)
            if match:
                yield finding("responses.output_text.tool_markup", f"{base}{pointer}", "the text holds a tool call "
                              f"written as template markup ({match.group(0)!r}), which no client runs",
                              expected="a function_call item", seen=text[:120], event=event)


@check("responses.instructions.echoed", *BOTH, needs_request=True,
       source="OpenAI API reference, the response object: `instructions`, \"A system (or developer) message "
              "inserted into the model's context\" (OpenAI's recorded answers echo the request's)")
def instructions_echoed(ctx: CheckContext) -> Iterator[Finding]:
    """The response states the `instructions` it ran with: the request's, as sent."""
    asked = (ctx.request or {}).get("instructions")
    if not isinstance(asked, str) or not asked:
        return
    for response, base, event in responses_in(ctx):
        if response.get("instructions") != asked:
            yield finding("responses.instructions.echoed", f"{base}/instructions", "the response does not state "
                          "the instructions it was given", expected=asked[:80],
                          seen=str(response.get("instructions"))[:80], event=event)


@check("responses.previous_response_id.echoed", *BOTH, needs_request=True,
       source="OpenAI API reference, the response object: `previous_response_id`, \"The unique ID of the previous "
              "response to the model\"")
def previous_echoed(ctx: CheckContext) -> Iterator[Finding]:
    """A response that continues another names it: `previous_response_id` as the request sent it (a client that
    stores the chain reads it there)."""
    asked = (ctx.request or {}).get("previous_response_id")
    if not isinstance(asked, str):
        return
    for response, base, event in responses_in(ctx):
        if response.get("previous_response_id") != asked:
            yield finding("responses.previous_response_id.echoed", f"{base}/previous_response_id", "the response "
                          "does not name the response it continues", expected=asked,
                          seen=response.get("previous_response_id"), event=event)


# The request's settings a response states back as the ones it ran with (the spec gives the response object the
# same properties as the request: ResponseProperties and ModelResponseProperties): (pointer in both, what it is).
# Left out: `model` (an alias is answered by its snapshot), `service_tier` (the tier used, not the one asked),
# `tools` and the rest of `text` and `reasoning` (OpenAI fills in defaults: recorded answers expand them).
RESTATED = (("/temperature", "the sampling temperature"), ("/top_p", "top_p"),
            ("/max_output_tokens", "the output token limit"), ("/top_logprobs", "top_logprobs"),
            ("/background", "background mode"), ("/metadata", "the metadata"), ("/truncation", "the truncation"),
            ("/safety_identifier", "the safety identifier"), ("/prompt_cache_key", "the prompt cache key"),
            ("/max_tool_calls", "the built-in tool call limit"), ("/parallel_tool_calls", "parallel_tool_calls"),
            ("/tool_choice", "tool_choice"), ("/reasoning/effort", "the reasoning effort"),
            ("/text/format/type", "the text format"))


def _same_setting(asked: Any, stated: Any) -> bool:
    """Equal, a number within float32 rounding of it included (a server that keeps 0.7 as a float32 says
    0.699999988)."""
    if isinstance(asked, bool) or isinstance(stated, bool):
        return asked is stated
    if isinstance(asked, int | float) and isinstance(stated, int | float):
        return abs(asked - stated) <= 1e-6 * max(1.0, abs(asked))
    return bool(asked == stated)


@check("responses.request.restated", *BOTH, needs_request=True,
       source="OpenAI API reference, the response object: it carries the request's own properties (temperature, "
              "top_p, max_output_tokens, top_logprobs, background, metadata, truncation, tool_choice, reasoning, "
              "text...) as the settings it ran with; OpenAI's recorded answers state background, instructions, "
              "tool_choice and reasoning.effort as sent (shared/reference/openai-responses-recordings)")
def request_restated(ctx: CheckContext) -> Iterator[Finding]:
    """Each setting the request gave is stated back as given: a client that logs or audits what a response ran with
    reads it there. A setting the response leaves out is the schema's finding; one stated otherwise (another value,
    or null) is this one's."""
    request = ctx.request or {}
    for response, base, event in responses_in(ctx):
        for pointer, what in RESTATED:
            asked, stated = value_at(request, pointer), value_at(response, pointer)
            if asked is MISSING or asked is None or stated is MISSING or _same_setting(asked, stated):
                continue
            yield finding("responses.request.restated", f"{base}{pointer}", f"the response states {what} "
                          "otherwise than the request gave it", expected=asked, seen=stated, event=event)


def _declared_functions(request: dict[str, Any]) -> set[str]:
    tools = request.get("tools")
    return {t["name"] for t in tools if isinstance(t, dict) and t.get("type") == "function"
            and isinstance(t.get("name"), str)} if isinstance(tools, list) else set()


@check("responses.tool_choice.honoured", *BOTH, severity=Severity.FAILURE, needs_request=True, source=GUIDE_TOOLS)
def tool_choice_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """`tool_choice` is obeyed: `required` makes at least one function call, `{"type": "function", "name": N}` calls
    N and nothing else, `none` calls nothing, `allowed_tools` calls only the functions it lists (and one at least in
    mode `required`) (judged on completed responses)."""
    choice = (ctx.request or {}).get("tool_choice")
    for response, base, event in responses_in(ctx):
        if response.get("status") not in ("completed", None):
            continue
        names = [item.get("name") for _, item in calls_of(response)]
        if choice == "required" and not names:
            yield finding("responses.tool_choice.honoured", f"{base}/output", "tool_choice is required and the "
                          "response calls no function", expected="a function_call item", seen="none", event=event)
        elif choice == "none" and names:
            yield finding("responses.tool_choice.honoured", f"{base}/output", "tool_choice is none and the "
                          "response calls a function", expected="no function_call", seen=names, event=event)
        elif isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
            wanted = choice["name"]
            if not names or any(name != wanted for name in names):
                yield finding("responses.tool_choice.honoured", f"{base}/output", f"tool_choice names {wanted!r} "
                              "and the response does not call it alone", expected=[wanted], seen=names,
                              event=event)
        elif (allowed := _allowed(choice)) is not None:
            mode, permitted = allowed
            if mode == "required" and not names:
                yield finding("responses.tool_choice.honoured", f"{base}/output", "tool_choice allows some tools "
                              "in mode 'required' and the response calls none", expected=sorted(permitted),
                              seen="none", event=event)
            for index, item in calls_of(response):
                if item.get("name") not in permitted:
                    yield finding("responses.tool_choice.honoured", f"{base}/output/{index}/name", "a call to "
                                  f"{item.get('name')!r}, which tool_choice does not allow", expected=sorted(permitted),
                                  seen=item.get("name"), event=event)


def _allowed(choice: Any) -> tuple[str, set[str]] | None:
    """(mode, the function names allowed) of a `tool_choice` of type `allowed_tools` (API reference,
    ToolChoiceAllowed: `{"type": "allowed_tools", "mode": "auto" | "required", "tools": [{"type": "function",
    "name": ...}]}`), or None."""
    if not isinstance(choice, dict) or choice.get("type") != "allowed_tools":
        return None
    return allowed_functions(choice, lambda tool: tool.get("name"))


@check("responses.tools.declared", *BOTH, severity=Severity.FAILURE, needs_request=True, source=GUIDE_TOOLS)
def tools_declared(ctx: CheckContext) -> Iterator[Finding]:
    """A function call names a function the request declared: a client has nothing to run for any other name."""
    declared = _declared_functions(ctx.request or {})
    if not declared:
        return
    for response, base, event in responses_in(ctx):
        for i, item in calls_of(response):
            if item.get("name") not in declared:
                yield finding("responses.tools.declared", f"{base}/output/{i}/name", f"the call names "
                              f"{item.get('name')!r}, which the request did not declare", expected=sorted(declared),
                              seen=item.get("name"), event=event)


@check("responses.parallel_tool_calls", *BOTH, severity=Severity.FAILURE, needs_request=True,
       source="OpenAI API reference, create a model response: `parallel_tool_calls`, \"Whether to allow the model "
              "to run tool calls in parallel\"")
def parallel_tool_calls(ctx: CheckContext) -> Iterator[Finding]:
    """`parallel_tool_calls: false` allows one function call per response."""
    if (ctx.request or {}).get("parallel_tool_calls") is not False:
        return
    for response, base, event in responses_in(ctx):
        calls = calls_of(response)
        if len(calls) > 1:
            yield finding("responses.parallel_tool_calls", f"{base}/output/{calls[1][0]}", f"parallel_tool_calls is "
                          f"false and the response makes {len(calls)} calls", expected="at most 1", seen=len(calls),
                          event=event)


@check("responses.text.format", *BOTH, severity=Severity.FAILURE, needs_request=True, source=GUIDE_STRUCTURED)
def text_format(ctx: CheckContext) -> Iterator[Finding]:
    """`text.format` of type `json_schema` or `json_object` makes the message's text one JSON object; a strict
    schema's required properties are all there (judged on completed responses: a cut one cannot be whole)."""
    text = (ctx.request or {}).get("text")
    format_: dict[str, Any] = text["format"] if isinstance(text, dict) and isinstance(text.get("format"), dict) \
        else {}
    kind = format_.get("type")
    if kind not in ("json_schema", "json_object"):
        return
    schema: dict[str, Any] = format_["schema"] if isinstance(format_.get("schema"), dict) else {}
    required = schema.get("required") if format_.get("strict") is True else None
    for response, base, event in responses_in(ctx):
        if response.get("status") != "completed" or calls_of(response):
            continue
        for pointer, value in texts_of(response)[:1]:
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                yield finding("responses.text.format", f"{base}{pointer}", f"text.format is {kind} and the text is "
                              "not a JSON object", expected="a JSON object", seen=value[:100], event=event)
            elif isinstance(required, list):
                missing = [k for k in required if k not in parsed]
                if missing:
                    yield finding("responses.text.format", f"{base}{pointer}", f"the strict schema's required "
                                  f"{', '.join(map(str, missing))} missing", expected=required, seen=sorted(parsed),
                                  event=event)


@check("responses.max_output_tokens", *BOTH, severity=Severity.FAILURE, needs_request=True,
       source="OpenAI API reference, create a model response: `max_output_tokens`, \"An upper bound for the number "
              "of tokens that can be generated for a response, including visible output tokens and reasoning "
              "tokens\"")
def max_output_tokens(ctx: CheckContext) -> Iterator[Finding]:
    """At most `max_output_tokens` are generated; a response stopped by the limit is `incomplete` with the reason
    `max_output_tokens`, never `completed` past it."""
    limit = (ctx.request or {}).get("max_output_tokens")
    if not is_count(limit):
        return
    for response, base, event in responses_in(ctx):
        usage = response.get("usage")
        made = usage.get("output_tokens") if isinstance(usage, dict) else None
        if is_count(made) and made > limit:
            yield finding("responses.max_output_tokens", f"{base}/usage/output_tokens", f"{made} output tokens "
                          f"where max_output_tokens is {limit}", expected=f"<= {limit}", seen=made, event=event)


@check("responses.include.logprobs", *BOTH, needs_request=True,
       source="OpenAI API reference, create a model response: `include`, \"message.output_text.logprobs: Include "
              "logprobs with assistant messages\"")
def include_logprobs(ctx: CheckContext) -> Iterator[Finding]:
    """`include: ["message.output_text.logprobs"]` gives every non-empty text part its tokens' log probabilities."""
    include = (ctx.request or {}).get("include")
    if not isinstance(include, list) or "message.output_text.logprobs" not in include:
        return
    for response, base, event in responses_in(ctx):
        for i, item in items_of(response):
            content = item.get("content") if item.get("type") == "message" else None
            for j, part in enumerate(content if isinstance(content, list) else []):
                if isinstance(part, dict) and part.get("type") == "output_text" and part.get("text") and \
                        not (isinstance(part.get("logprobs"), list) and part["logprobs"]):
                    yield finding("responses.include.logprobs", f"{base}/output/{i}/content/{j}/logprobs",
                                  "logprobs were asked for and the text part carries none",
                                  expected="one entry per token", seen=part.get("logprobs"), event=event)


@check("responses.deleted", "response.deleted", severity=Severity.FAILURE,
       source="OpenAI API reference, Responses: delete a model response (its example answer: `deleted: true`)")
def deleted(ctx: CheckContext) -> Iterator[Finding]:
    """A deletion is confirmed: `deleted` is true."""
    if isinstance(ctx.body, dict) and ctx.body.get("deleted") is not True:
        yield finding("responses.deleted", "/deleted", "the deletion is not confirmed", expected=True,
                      seen=ctx.body.get("deleted"))

