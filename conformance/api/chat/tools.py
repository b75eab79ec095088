"""Checks on function calling (OpenAI guide "Function calling"; API reference `tools`, `tool_choice`).

They judge streamed and non-streamed answers alike, through one view of "the calls a choice made".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.api.chat.checks import choices_of
from conformance.checks.registry import CheckContext, check, finding
from conformance.checks.user_schemas import validator_for
from conformance.model.findings import Finding, Severity
from conformance.wire.strict_json import strict_loads


@dataclass
class Call:
    pointer: str  # where the call sits (for a stream: where it started)
    event: int | None
    id: Any
    name: Any
    arguments: Any
    type: Any = "function"
    pieces: tuple[tuple[int, str, int], ...] = ()  # streamed: (chunk, pointer, offset) of each arguments delta

    def where_offset(self, offset: int | None) -> tuple[str, int | None]:
        """The delta (pointer, chunk) that carried character ``offset`` of the arguments: where they went wrong."""
        if not self.pieces or offset is None:
            return self.pointer, self.event
        chosen = self.pieces[0]
        for piece in self.pieces:
            if piece[2] <= offset:
                chosen = piece
        return chosen[1], chosen[0]

    @property
    def is_function(self) -> bool:
        """A function call (the default); a custom-tool call (`type: "custom"`) has `custom.input`, no arguments."""
        return self.type != "custom"


@dataclass
class ChoiceCalls:
    index: int
    finish_pointer: str
    finish_event: int | None
    finish_reason: Any
    calls: list[Call]


def calls_by_choice(ctx: CheckContext) -> list[ChoiceCalls]:
    if ctx.kind == "stream":
        return _stream_calls(ctx)
    result = []
    for number, choice in enumerate(choices_of(ctx.body)):
        if not isinstance(choice, dict):
            continue
        message: dict[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
        raw_calls: list[Any] = message["tool_calls"] if isinstance(message.get("tool_calls"), list) else []
        calls = []
        for position, raw in enumerate(raw_calls):
            call: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if call.get("type") == "custom":
                custom: dict[str, Any] = call["custom"] if isinstance(call.get("custom"), dict) else {}
                calls.append(Call(f"/choices/{number}/message/tool_calls/{position}", None, call.get("id"),
                                  custom.get("name"), custom.get("input"), "custom"))
                continue
            function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
            calls.append(
                Call(
                    f"/choices/{number}/message/tool_calls/{position}", None, call.get("id"),
                    function.get("name"), function.get("arguments"),
                )
            )
        result.append(ChoiceCalls(number, f"/choices/{number}/finish_reason", None, choice.get("finish_reason"), calls))
    return result


def _stream_calls(ctx: CheckContext) -> list[ChoiceCalls]:
    result = []
    for index, choice in sorted(ctx.streamed.items()):
        calls = [
            Call(call.first_pointer, call.first_event, call.id, call.name, call.arguments,
                 pieces=tuple(call.argument_pieces))
            for _, call in sorted(choice.calls.items(), key=lambda item: item[1].first_event)
        ]
        last = choice.finish[-1] if choice.finish else None
        finish_event = last[0] if last else None
        result.append(ChoiceCalls(index, _finish_pointer(ctx.chunks, finish_event, index), finish_event,
                                  last[1] if last else None, calls))
    return result


def _finish_pointer(chunks: list[Any], event: int | None, index: int) -> str:
    if event is None:
        return "/choices/0/finish_reason"
    for position, choice in enumerate(chunks[event].get("choices", [])):
        if isinstance(choice, dict) and choice.get("index", position) == index:
            return f"/choices/{position}/finish_reason"
    return "/choices/0/finish_reason"


def declared_tools(request: dict[str, Any] | None) -> dict[str, Any]:
    """Declared tool names and their parameter schemas (None for a custom tool, whose input is free text)."""
    tools = (request or {}).get("tools")
    declared: dict[str, Any] = {}
    for tool in tools if isinstance(tools, list) else []:
        kind = tool.get("type") if isinstance(tool, dict) else None
        spec = tool.get(kind) if isinstance(tool, dict) and isinstance(kind, str) else None
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            declared[spec["name"]] = (spec.get("parameters") or {"type": "object"}) if kind == "function" else None
    return declared


def forced(request: dict[str, Any] | None) -> bool:
    """Whether the request forces a call: tool_choice "required", a named function, or allowed tools in mode
    "required"."""
    choice = (request or {}).get("tool_choice")
    return choice == "required" or (isinstance(choice, dict) and choice.get("type") in ("function", "custom")) or \
        (allowed_tools(request) or ("", set()))[0] == "required"


def allowed_tools(request: dict[str, Any] | None) -> tuple[str, set[str]] | None:
    """(mode, the function names allowed) of a chat `tool_choice` of type `allowed_tools` (API reference,
    ChatCompletionAllowedToolsChoice: `{"type": "allowed_tools", "allowed_tools": {"mode": "auto" | "required",
    "tools": [{"type": "function", "function": {"name": ...}}]}}`), or None for any other tool_choice."""
    choice = (request or {}).get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "allowed_tools":
        return None
    return allowed_functions(choice.get("allowed_tools"), lambda tool: (tool.get("function") or {}).get("name"))


def allowed_functions(spec: Any, name_of: Callable[[dict[str, Any]], Any]) -> tuple[str, set[str]] | None:
    """(mode, names) of an allowed-tools choice's ``{"mode", "tools"}``, each function's name read by ``name_of``
    (chat nests it under `function`, the Responses API does not); None when the mode is unknown or a tool of another
    kind is allowed too (its calls are no function call: there is no list to judge calls by)."""
    if not isinstance(spec, dict) or spec.get("mode") not in ("auto", "required") or \
            not isinstance(spec.get("tools"), list):
        return None
    tools = spec["tools"]
    names = {name_of(t) for t in tools if isinstance(t, dict) and t.get("type") == "function"}
    if not all(isinstance(n, str) for n in names) or len(names) != len(tools):
        return None
    return spec["mode"], names


FORCED_STOP_SOURCE = ("OpenAI staff on the OpenAI developer forum, in the thread announcing tool_choice "
                      "\"required\": a forced call (\"required\" or a named function) ends with finish_reason "
                      "\"stop\"; OpenAI API reference, the chat completion object, finish_reason")


@check("tools.finish_reason", "chat.completion", "stream", source=FORCED_STOP_SOURCE)
def finish_reason_tool_calls(ctx: CheckContext) -> Iterator[Finding]:
    """A choice that returns tool calls ends with `finish_reason: "tool_calls"` (unless it was cut off); when the
    request forced the call (`tool_choice` "required" or a named function) OpenAI itself answers "stop"."""
    allowed = ("tool_calls", "length", "content_filter", None) + (("stop",) if forced(ctx.request) else ())
    for choice in calls_by_choice(ctx):
        if choice.calls and choice.finish_reason not in allowed:
            yield finding(
                "tools.finish_reason", choice.finish_pointer,
                f"the choice returned {len(choice.calls)} tool call(s) but finish_reason is {choice.finish_reason!r}",
                expected="tool_calls", seen=choice.finish_reason, event=choice.finish_event,
            )
        if not choice.calls and choice.finish_reason == "tool_calls":
            yield finding(
                "tools.finish_reason", choice.finish_pointer,
                "finish_reason is 'tool_calls' but the choice made no tool call",
                expected="stop", seen="tool_calls", event=choice.finish_event,
            )


@check("tools.call.id", "chat.completion", "stream")
def call_id(ctx: CheckContext) -> Iterator[Finding]:
    """Every tool call has a non-empty string `id`, which the tool message must echo back."""
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            if not isinstance(call.id, str) or not call.id:
                yield finding(
                    "tools.call.id", f"{call.pointer}/id", "tool call without a non-empty id",
                    expected="non-empty string", seen=call.id, event=call.event,
                )


@check("tools.call.arguments.json", "chat.completion", "stream", severity=Severity.FAILURE)
def arguments_json(ctx: CheckContext) -> Iterator[Finding]:
    """`function.arguments` is a string holding one JSON object."""
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            problem = _arguments_problem(call.arguments) if call.is_function else None
            if problem:
                pointer, event = call.where_offset(_error_offset(call.arguments))
                yield finding(
                    "tools.call.arguments.json", f"{pointer}/function/arguments", problem,
                    expected="a JSON object in a string", seen=_short(call.arguments), event=event,
                )


def _error_offset(arguments: Any) -> int | None:
    """Where a JSON text goes wrong (its last character when it is merely cut short), or None."""
    if not isinstance(arguments, str):
        return None
    try:
        json.loads(arguments)
    except json.JSONDecodeError as exc:
        return min(exc.pos, max(len(arguments) - 1, 0))
    except ValueError:
        return None
    return None


def _arguments_problem(arguments: Any) -> str | None:
    if not isinstance(arguments, str):
        return f"arguments is {type(arguments).__name__}, not a string"
    try:
        value = strict_loads(arguments)
    except (ValueError, RecursionError) as exc:
        return f"arguments is not valid JSON ({str(exc)[:160]})"
    if not isinstance(value, dict):
        return "arguments is JSON but not an object"
    return None


@check("tools.call.arguments.schema", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def arguments_schema(ctx: CheckContext) -> Iterator[Finding]:
    """Arguments validate against the `parameters` schema the request declared for that function."""
    declared = declared_tools(ctx.request)
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            if not call.is_function or declared.get(call.name) is None or _arguments_problem(call.arguments):
                continue
            validator = validator_for(declared[call.name])
            if validator is None:
                continue
            for error in validator.iter_errors(json.loads(call.arguments)):
                path = "/".join(str(p) for p in error.absolute_path)
                yield finding(
                    "tools.call.arguments.schema", f"{call.pointer}/function/arguments",
                    f"arguments do not match the declared parameters at '/{path}': {error.message[:200]}",
                    expected=f"{error.validator}: {error.validator_value}", seen=_short(error.instance),
                    event=call.event,
                )


@check("tools.call.name", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def call_name(ctx: CheckContext) -> Iterator[Finding]:
    """Every call names a function the request declared; a request without `tools` gets no call at all."""
    declared = declared_tools(ctx.request)
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            if not declared:
                yield finding(
                    "tools.call.name", f"{call.pointer}/function/name",
                    f"a tool call to {call.name!r} although the request declared no tools", expected="no tool call",
                    seen=call.name, event=call.event,
                )
            elif call.name not in declared:
                yield finding(
                    "tools.call.name", f"{call.pointer}/function/name", f"call to undeclared function {call.name!r}",
                    expected=sorted(declared), seen=call.name, event=call.event,
                )


def _tool_choice(request: dict[str, Any] | None) -> Any:
    return (request or {}).get("tool_choice")


@check("tools.choice.none", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def choice_none(ctx: CheckContext) -> Iterator[Finding]:
    """`tool_choice: "none"`: the model answers in text and calls nothing."""
    if _tool_choice(ctx.request) != "none":
        return
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            yield finding(
                "tools.choice.none", call.pointer, "tool_choice was 'none' but a tool was called",
                expected="no tool call", seen=call.name, event=call.event,
            )


@check("tools.choice.required", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def choice_required(ctx: CheckContext) -> Iterator[Finding]:
    """`tool_choice: "required"`: every choice calls at least one tool."""
    if _tool_choice(ctx.request) != "required":
        return
    for choice in calls_by_choice(ctx):
        if not choice.calls:
            yield finding(
                "tools.choice.required", f"/choices/{choice.index}/message/tool_calls",
                "tool_choice was 'required' but no tool was called", expected=">= 1 tool call", seen=0,
            )


@check("tools.choice.named", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def choice_named(ctx: CheckContext) -> Iterator[Finding]:
    """A named `tool_choice` makes the model call that function, and only it."""
    wanted = _tool_choice(ctx.request)
    if not isinstance(wanted, dict) or wanted.get("type", "function") != "function":
        return  # allowed_tools is tools.choice.allowed's; a custom tool's choice names no function
    name = (wanted.get("function") or {}).get("name")
    for choice in calls_by_choice(ctx):
        if not choice.calls:
            yield finding(
                "tools.choice.named", f"/choices/{choice.index}/message/tool_calls",
                f"tool_choice named {name!r} but no tool was called", expected=name, seen=None,
            )
        for call in choice.calls:
            if call.name != name:
                yield finding(
                    "tools.choice.named", f"{call.pointer}/function/name",
                    f"tool_choice named {name!r} but {call.name!r} was called", expected=name, seen=call.name,
                    event=call.event,
                )


@check("tools.choice.allowed", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       source="OpenAI API reference, ChatCompletionAllowedTools: \"`auto` allows the model to pick from among the "
              "allowed tools and generate a message. `required` requires the model to call one or more of the allowed "
              "tools.\"")
def choice_allowed(ctx: CheckContext) -> Iterator[Finding]:
    """`tool_choice` of type `allowed_tools`: every call is to an allowed function, and in mode `required` each
    choice makes one."""
    allowed = allowed_tools(ctx.request)
    if allowed is None:
        return
    mode, names = allowed
    for choice in calls_by_choice(ctx):
        if mode == "required" and not choice.calls:
            yield finding(
                "tools.choice.allowed", f"/choices/{choice.index}/message/tool_calls",
                "tool_choice allows some tools in mode 'required' but no tool was called",
                expected=f">= 1 call to {sorted(names)}", seen=0,
            )
        for call in choice.calls:
            if call.name not in names:
                yield finding(
                    "tools.choice.allowed", f"{call.pointer}/function/name",
                    f"a call to {call.name!r}, which tool_choice does not allow", expected=sorted(names),
                    seen=call.name, event=call.event,
                )


@check("tools.parallel.count", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       nature="behaviour", applies=lambda _, expect: isinstance(expect.min_tool_calls, int))
def parallel_count(ctx: CheckContext) -> Iterator[Finding]:
    """A prompt that needs several calls gets them in one turn (parallel function calling)."""
    wanted = ctx.expect.min_tool_calls
    if not isinstance(wanted, int):
        return
    for choice in calls_by_choice(ctx):
        if len(choice.calls) < wanted:
            yield finding(
                "tools.parallel.count", f"/choices/{choice.index}/message/tool_calls",
                f"expected at least {wanted} tool calls in one turn, got {len(choice.calls)}",
                expected=f">= {wanted}", seen=len(choice.calls),
            )


@check("tools.auto.called", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       nature="behaviour", applies=lambda _, expect: expect.tool_call_expected,
       source="Gemini OpenAI-compatibility guide, Function calling (its get_weather example "
       "answers with a tool call); OpenAI guide, Function calling")
def auto_called(ctx: CheckContext) -> Iterator[Finding]:
    """Under `tool_choice: "auto"`, a question only a declared tool can answer gets a tool call: the model may
    decline, so this is a behaviour with a rate, not a contract."""
    if not ctx.expect.tool_call_expected:
        return
    for choice in calls_by_choice(ctx):
        if not choice.calls:
            yield finding("tools.auto.called", f"/choices/{choice.index}/message/tool_calls",
                          "the model answered without calling the tool the question needs", expected=">= 1 call",
                          seen=0)


@check("tools.result.answer", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       nature="behaviour", applies=lambda request, _: _ends_with_tool_result(request))
def result_answer(ctx: CheckContext) -> Iterator[Finding]:
    """After a `tool` message the model answers the user in text."""
    if not _ends_with_tool_result(ctx.request or {}):
        return
    texts: dict[int, Any]
    if ctx.kind == "stream":
        texts = {i: c.content for i, c in ctx.streamed.items()}
    else:
        texts = {}
        for number, choice in enumerate(choices_of(ctx.body)):
            message = choice.get("message") if isinstance(choice, dict) else None
            texts[number] = message.get("content") if isinstance(message, dict) else None
    if not texts:
        texts = {0: None}
    for number, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            yield finding(
                "tools.result.answer", f"/choices/{number}/message/content",
                "no text answer after the tool result was sent", expected="non-empty string", seen=text,
            )


def _ends_with_tool_result(request: dict[str, Any]) -> bool:
    messages = request.get("messages")
    return isinstance(messages, list) and bool(messages) and isinstance(messages[-1], dict) \
        and messages[-1].get("role") == "tool"


def _short(value: Any, limit: int = 160) -> Any:
    return value[: limit - 3] + "..." if isinstance(value, str) and len(value) > limit else value


@check("tools.legacy_function_call", "chat.completion", "stream")
def legacy_function_call(ctx: CheckContext) -> Iterator[Finding]:
    """No deprecated `function_call` beside `tool_calls`: OpenAI answers `tools` with `tool_calls` only, and
    clients that still read `function_call` (the Node.js SDK's stream helper among them) take the wrong branch."""
    if ctx.kind == "stream":
        for number, chunk in enumerate(ctx.chunks):
            for position, choice in enumerate(choices_of(chunk)):
                delta = choice.get("delta") if isinstance(choice, dict) else None
                if isinstance(delta, dict) and delta.get("function_call") and delta.get("tool_calls"):
                    yield finding("tools.legacy_function_call", f"/choices/{position}/delta/function_call",
                                  "a legacy function_call delta beside tool_calls", expected="absent or null",
                                  seen=_short(delta["function_call"]), event=number)
                    return
        return
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and message.get("function_call") and message.get("tool_calls"):
            yield finding("tools.legacy_function_call", f"/choices/{number}/message/function_call",
                          "a legacy function_call beside tool_calls", expected="absent or null",
                          seen=_short(message["function_call"]))


@check("tools.parallel.disabled", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def parallel_disabled(ctx: CheckContext) -> Iterator[Finding]:
    """`parallel_tool_calls: false`: at most one tool call per turn (OpenAI guide, Function calling)."""
    if (ctx.request or {}).get("parallel_tool_calls") is not False:
        return
    for choice in calls_by_choice(ctx):
        if len(choice.calls) > 1:
            yield finding("tools.parallel.disabled", f"/choices/{choice.index}/message/tool_calls",
                          f"parallel_tool_calls was false but {len(choice.calls)} calls came in one turn",
                          expected="<= 1", seen=len(choice.calls))
