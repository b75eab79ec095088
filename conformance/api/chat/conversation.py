"""Conversations: the next request built from what the client returned, and what a server needs echoed back.

A flow case is what applications built on a compatibility layer run: ask with tools, take the assistant message
*as their client handed it to them*, run the tool, send the result back, read the answer. The assistant message
each surface's client returned (the Python SDK's parsed or accumulated message, the Node.js SDK's message or
``finalChatCompletion()``, the raw JSON for REST and curl) is echoed the portable way: rebuilt from OpenAI's own
message fields (the request's assistant-message schema). A server that needs more than that breaks every client
that rebuilds messages from OpenAI's fields, and every stream accumulator that drops fields it does not know.

When the portable echo of the client's message is refused, the suite finds out why instead of assuming: it sends
the portable echo of the exchange's own reading (did the client misread the answer?), then the verbatim message
as the wire carried it, every non-OpenAI field kept (does the server need a field of its own?), and narrows the
fields that made the difference by sending the verbatim message without each in turn. No field name is known in
advance: what is not in OpenAI's message schema is a candidate, wherever it sits.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.model.findings import Finding, Severity, escape_token
from conformance.wire.sse import loads_checked, parse_stream

# The fields of an assistant message in a request (ChatCompletionRequestAssistantMessage of the pinned spec) and
# of a tool call in it (ChatCompletionMessageToolCall): what a client that rebuilds messages from OpenAI's fields
# sends back. Anything else in the answer's message is the server's own.
MESSAGE_FIELDS = ("role", "content", "refusal", "name", "audio", "tool_calls", "function_call")
TOOL_CALL_FIELDS = ("id", "type", "function")
FUNCTION_FIELDS = ("name", "arguments")
# Fields a stream sends in pieces: a client joins them (content, refusal, reasoning text, arguments).
JOINED_FIELDS = ("content", "refusal", "reasoning_content", "reasoning", "arguments")
# Narrowing (which of the server's own fields does the next turn need?) halves the candidates: each request leaves
# out a group, so k needed fields among n cost about 2k log2(n) requests. At most this many requests are spent, and
# at most MAX_NAMED fields are named (each a finding); past them the rest is said in one finding.
MAX_NARROWING_REQUESTS = 48
MAX_NAMED = 8


ROOT = "/choices/0/message"  # where the echoed message sits in the answer: findings about it point there


def calls(message: dict[str, Any]) -> list[Any]:
    """The tool calls the assistant message made."""
    found = message.get("tool_calls")
    return found if isinstance(found, list) else []


def portable(message: dict[str, Any]) -> dict[str, Any]:
    """The message rebuilt from OpenAI's own fields: role, content, tool calls (id, type, function name and
    arguments), refusal when there is one. What a portable client, an agent framework or a message store sends."""
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if isinstance(message.get("refusal"), str):
        out["refusal"] = message["refusal"]
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = []
        for raw in calls:
            call: dict[str, Any] = raw if isinstance(raw, dict) else {}
            function: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
            out["tool_calls"].append({"id": call.get("id"), "type": call.get("type") or "function",
                                      "function": {"name": function.get("name"),
                                                   "arguments": function.get("arguments")}})
    return out


def extension_pointers(message: dict[str, Any]) -> list[str]:
    """JSON pointers (into the message) of every value OpenAI's message schema does not have: the roots of the
    server's own fields, wherever they sit (the message, a tool call, its function)."""
    found = [f"/{escape_token(k)}" for k, v in message.items() if k not in MESSAGE_FIELDS and v is not None]
    calls = message.get("tool_calls")
    for position, call in enumerate(calls if isinstance(calls, list) else []):
        if not isinstance(call, dict):
            continue
        base = f"/tool_calls/{position}"
        found += [f"{base}/{escape_token(k)}" for k, v in call.items()
                  if k not in (*TOOL_CALL_FIELDS, "index") and v is not None]
        function = call.get("function")
        if isinstance(function, dict):
            found += [f"{base}/function/{escape_token(k)}" for k, v in function.items()
                      if k not in FUNCTION_FIELDS and v is not None]
    return found


def leaves(message: dict[str, Any], root: str) -> list[str]:
    """The leaf pointers under ``root`` (a field's exact path, e.g. .../extra_content/google/thought_signature)."""
    value = resolve(message, root)
    if isinstance(value, dict) and value:
        return [leaf for key in value for leaf in leaves(message, f"{root}/{escape_token(key)}")]
    return [root]


def resolve(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def without(message: dict[str, Any], *pointers: str) -> dict[str, Any]:
    """The message without the object members at ``pointers`` (the roots of the server's own fields: members,
    never array elements, so leaving one out moves no other)."""
    copied = copy.deepcopy(message)
    for pointer in pointers:
        *parents, last = pointer.split("/")[1:]
        node: Any = copied
        try:
            for token in parents:
                token = token.replace("~1", "/").replace("~0", "~")
                node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            continue  # under a member already left out
        if isinstance(node, dict):
            node.pop(last.replace("~1", "/").replace("~0", "~"), None)
    return copied


def narrow(candidates: list[str], accepted_without: Callable[[list[str]], bool | None],
           budget: int = MAX_NARROWING_REQUESTS) -> tuple[list[str], bool]:
    """The candidates the next turn needs, proved one by one: a group whose absence is still accepted holds none
    that is needed on its own; a refused group is halved until each needed field stands alone. Returns (the
    fields proved needed, whether the search finished within ``budget`` requests). ``accepted_without`` sends the
    verbatim message without a group: True (accepted), False (refused), None (no answer to judge: stop)."""
    proved: list[str] = []
    left = [budget]
    finished = [True]

    def search(group: list[str], known_refused: bool) -> None:
        if not group or not finished[0]:
            return
        if not known_refused:
            if left[0] <= 0:
                finished[0] = False
                return
            left[0] -= 1
            answer = accepted_without(group)
            if answer is None:
                finished[0] = False
                return
            if answer:
                return
        if len(group) == 1:
            proved.append(group[0])
            return
        middle = len(group) // 2
        search(group[:middle], False)
        search(group[middle:], False)

    search(list(candidates), True)  # without every candidate is the portable echo, refused already
    return proved, finished[0]


def wire_message(body: str, stream: bool) -> dict[str, Any] | None:
    """The first choice's assistant message as the wire carried it, every field kept (a stream's deltas folded:
    the joined fields concatenated, the rest taken from the delta that first sent them)."""
    if not stream:
        try:
            value, _ = loads_checked(body)
        except ValueError:
            return None
        choices = value.get("choices") if isinstance(value, dict) else None
        first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
        answered = first.get("message") if first else None
        return copy.deepcopy(answered) if isinstance(answered, dict) else None
    parsed = parse_stream(body)
    message: dict[str, Any] = {}
    calls: dict[int, dict[str, Any]] = {}
    for chunk in parsed.chunks:
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0 or not isinstance(choice.get("delta"),
                                                                                             dict):
                continue
            for key, value in choice["delta"].items():
                if key == "tool_calls" and isinstance(value, list):
                    for position, call in enumerate(value):
                        if isinstance(call, dict):
                            index = call.get("index", position)
                            _fold(calls.setdefault(index if isinstance(index, int) else position, {}), call)
                elif key != "tool_calls":
                    _fold_value(message, key, value)
    if not parsed.chunks:
        return None
    if calls:
        message["tool_calls"] = [{k: v for k, v in calls[i].items() if k != "index"} for i in sorted(calls)]
    message.setdefault("role", "assistant")
    return message


def _fold(target: dict[str, Any], delta: dict[str, Any]) -> None:
    for key, value in delta.items():
        _fold_value(target, key, value)


def _fold_value(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.setdefault(key, None)
    elif isinstance(value, dict):
        current = target.get(key)
        if not isinstance(current, dict):
            current = target[key] = {}
        _fold(current, value)
    elif key in JOINED_FIELDS and isinstance(value, str):
        target[key] = (target.get(key) or "") + value
    elif target.get(key) is None:
        target[key] = value


# --- The local tools: deterministic, in the suite ------------------------------------------------------------------
def run_tool(name: str | None, arguments: str | None) -> str:
    """What the suite's own implementation of a catalogue tool answers (the same for every surface and run)."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return json.dumps({"error": "the arguments are not JSON"})
    if not isinstance(args, dict):
        return json.dumps({"error": "the arguments are not a JSON object"})
    location = str(args.get("location") or "unknown")
    if name == "get_weather":
        unit = args.get("unit") if args.get("unit") in ("celsius", "fahrenheit") else "celsius"
        return json.dumps({"location": location, "temperature": 22 if unit == "celsius" else 72, "unit": unit})
    if name == "get_time":
        return json.dumps({"location": location, "time": "14:05"})
    return json.dumps({"error": f"no tool named {name!r}"})


def tool_results(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One tool message per call of ``message``, answered by the local tools, in the calls' order."""
    results = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        results.append({"role": "tool", "tool_call_id": call.get("id"),
                        "content": run_tool(function.get("name"), function.get("arguments"))})
    return results


# --- What a flow step is built from ---------------------------------------------------------------------------------
@dataclass
class Turn:
    """One step's outcome as the next step sees it: what was sent, and the assistant message to echo."""

    request: dict[str, Any]
    message: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """A follow-up request of a flow case: ``build(previous turns)`` returns its body (the model already set).
    ``path``, when given, names another operation than the case's (a stored answer read back, deleted...): the
    filled path from the previous turns, with ``method`` where the path alone names no single operation."""

    name: str
    build: Callable[[list[Turn]], dict[str, Any]]
    expect: dict[str, Any] = field(default_factory=dict)
    path: Callable[[list[Turn]], str] | None = None
    method: str = ""


def continue_with_tool_results(turns: list[Turn]) -> dict[str, Any]:
    """The conversation so far, the assistant message echoed, and the local tools' answers to its calls."""
    last = turns[-1]
    body = copy.deepcopy(last.request)
    body.pop("tool_choice", None)  # the answer to a forced call is text: forcing again would loop
    body["messages"] = [*body["messages"], last.message, *tool_results(last.message)]
    return body


def continue_chat(question: str) -> Callable[[list[Turn]], dict[str, Any]]:
    """The conversation so far, the assistant's own answer echoed, and the user's next question."""

    def build(turns: list[Turn]) -> dict[str, Any]:
        last = turns[-1]
        body = copy.deepcopy(last.request)
        body["messages"] = [*body["messages"], last.message, {"role": "user", "content": question}]
        return body

    return build


def unnamed_extensions_finding(candidates: int, named: int, shown: int, finished: bool, surface_label: str,
                               root: str = ROOT) -> Finding:
    """The verbatim message is accepted and the portable echo refused, and not every field it needs is named: too
    many, the narrowing's request budget spent, or no single field needed on its own (either of two will do)."""
    if not finished:
        why = f"the narrowing stopped at its budget of {MAX_NARROWING_REQUESTS} requests"
    elif named > shown:
        why = f"{named} fields are needed; the first {shown} are named in findings of their own"
    else:
        why = "no single one of them is needed on its own (the server takes any of several)"
    return Finding("flow.echo.extension_required", root,
                   f"the next turn is refused unless the assistant message carries fields of the server's own "
                   f"({candidates} candidate(s) that are not OpenAI fields; {why}): every client that rebuilds "
                   f"messages from OpenAI's fields breaks ({surface_label})", Severity.FAILURE,
                   expected="the portable echo (OpenAI's message fields) is accepted",
                   seen=f"{candidates} field(s) of the server's own")


def echo_finding(pointer: str, client_kept: bool, surface_label: str, stream: bool, seen: Any,
                 root: str = ROOT) -> Finding:
    """A FAIL naming one field of the server's own (``pointer`` into the assistant message) without which the next
    turn is refused; ``seen`` is the value the server sent there."""
    kept = (f"{surface_label} kept it, so its own message object works" if client_kept
            else f"{surface_label} dropped it too")
    accumulators = "; every stream accumulator that keeps only OpenAI's delta fields loses it" if stream else ""
    message = (f"the next turn is refused unless the assistant message carries {pointer}, which is not an OpenAI "
               "field: every client that rebuilds messages from OpenAI's fields (agent frameworks, message stores) "
               f"breaks{accumulators} ({kept})")
    return Finding("flow.echo.extension_required", f"{root}{pointer}", message, Severity.FAILURE,
                   expected="the portable echo (OpenAI's message fields) is accepted", seen=seen)


def raw_json_message(body: str, stream: bool) -> dict[str, Any] | None:
    """The assistant message a REST or curl client has: the raw JSON message; from a stream, what a hand-written
    accumulator of OpenAI's delta fields builds (content joined, each call's id, type and name from its first
    delta, its arguments joined)."""
    if not stream:
        return wire_message(body, stream=False)
    from conformance.api.chat.stream import assemble

    parsed = parse_stream(body)
    choice = assemble(parsed.chunks).get(0)
    if choice is None:
        return None
    message: dict[str, Any] = {"role": "assistant", "content": choice.content if choice.has_content else None}
    calls = sorted(choice.calls.values(), key=lambda call: call.first_event)
    if calls:
        message["tool_calls"] = [{"id": c.id, "type": c.type or "function",
                                  "function": {"name": c.name, "arguments": c.arguments}} for c in calls]
    return message


def first_difference(expected: Any, seen: Any, where: str = "") -> tuple[str, Any, Any]:
    """The first JSON pointer at which two JSON values differ, with both values there ('' and both when equal)."""
    if isinstance(expected, dict) and isinstance(seen, dict):
        for key in [*expected, *(k for k in seen if k not in expected)]:
            if expected.get(key, _ABSENT) != seen.get(key, _ABSENT):
                return first_difference(expected.get(key, _ABSENT), seen.get(key, _ABSENT),
                                        f"{where}/{escape_token(key)}")
    elif isinstance(expected, list) and isinstance(seen, list) and len(expected) == len(seen):
        for position, (a, b) in enumerate(zip(expected, seen, strict=True)):
            if a != b:
                return first_difference(a, b, f"{where}/{position}")
    return where, None if expected is _ABSENT else expected, None if seen is _ABSENT else seen


_ABSENT = object()
