"""How a Responses API conversation continues: by ``previous_response_id`` (the server keeps the state), or by
replaying the output items as input (``store: false``: the client keeps it).

A turn's "message" here is the response object as the surface's client read it (the Python SDK's ``Response``
model dumped, the Node.js SDK's object, the raw JSON for REST and curl, a stream's terminal response). Replaying
items is where a server can need more than OpenAI's fields (encrypted reasoning, or a field of its own, as Gemini's
thought signatures do on chat): the portable echo rebuilds each item from OpenAI's item fields, and the same
narrowing as chat's (``conformance/api/chat/conversation.py``) names what else the server needs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from conformance.api.chat.conversation import Turn, run_tool
from conformance.model.findings import escape_token
from conformance.wire.sse import loads_checked, parse_stream

ROOT = ""  # findings about the echoed response point into the response object itself

# OpenAI's fields of each output item type when sent back as input (the pinned spec's InputItem variants:
# OutputMessage, FunctionToolCall, ReasoningItem): a client that stores items as OpenAI documents them keeps these.
ITEM_FIELDS = {
    "message": ("type", "id", "role", "content", "status", "phase"),
    "function_call": ("type", "id", "call_id", "name", "arguments", "status"),
    "reasoning": ("type", "id", "summary", "content", "encrypted_content", "status"),
}
TEXT_PART_FIELDS = ("type", "text", "annotations", "logprobs")


def output_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    output = message.get("output")
    return [item for item in output if isinstance(item, dict)] if isinstance(output, list) else []


def calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The function calls the response made."""
    return [item for item in output_of(message) if item.get("type") == "function_call"]


def portable(message: dict[str, Any]) -> dict[str, Any]:
    """The response as a portable client keeps it: its id and its output items rebuilt from OpenAI's item fields
    (other item types kept whole: the suite's cases make none)."""
    items = []
    for item in output_of(message):
        fields = ITEM_FIELDS.get(str(item.get("type")))
        if fields is None:
            items.append(copy.deepcopy(item))
            continue
        rebuilt = {k: copy.deepcopy(item[k]) for k in fields if item.get(k) is not None}
        if isinstance(rebuilt.get("content"), list) and item.get("type") == "message":
            rebuilt["content"] = [{k: v for k, v in part.items() if k in TEXT_PART_FIELDS}
                                  if isinstance(part, dict) else part for part in rebuilt["content"]]
        items.append(rebuilt)
    return {"id": message.get("id"), "output": items}


def extension_pointers(message: dict[str, Any]) -> list[str]:
    """Pointers (into the response) of every item field OpenAI's item schema does not have: the roots of the
    server's own fields, where replaying the items could need them."""
    found = []
    for position, item in enumerate(output_of(message)):
        fields = ITEM_FIELDS.get(str(item.get("type")))
        if fields is None:
            continue
        found += [f"/output/{position}/{escape_token(k)}" for k, v in item.items() if k not in fields and v is not None]
    return found


def wire_message(body: str, stream: bool) -> dict[str, Any] | None:
    """The response as the wire carried it: the JSON body, or a stream's terminal response."""
    if not stream:
        try:
            value, _ = loads_checked(body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    for event in reversed(parse_stream(body).chunks):
        if isinstance(event, dict) and event.get("type") in ("response.completed", "response.incomplete",
                                                              "response.failed"):
            response = event.get("response")
            return copy.deepcopy(response) if isinstance(response, dict) else None
    return None


def raw_json_message(body: str, stream: bool) -> dict[str, Any] | None:
    """What a REST or curl client holds: the raw response (a stream's terminal response)."""
    return wire_message(body, stream)


def tool_outputs(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``function_call_output`` item per call, answered by the suite's local tools, in the calls' order."""
    return [{"type": "function_call_output", "call_id": call.get("call_id"),
             "output": run_tool(call.get("name"), call.get("arguments"))} for call in calls(message)]


def _base(turns: list[Turn]) -> dict[str, Any]:
    """The next request's settings: the previous request without its input and conversation state."""
    body = copy.deepcopy(turns[-1].request)
    for key in ("input", "previous_response_id", "instructions", "tool_choice"):
        body.pop(key, None)
    return body


def continue_by_id(question: str) -> Callable[[list[Turn]], dict[str, Any]]:
    """The next turn through server-side state: ``previous_response_id`` and the user's next question only."""

    def build(turns: list[Turn]) -> dict[str, Any]:
        return {**_base(turns), "previous_response_id": turns[-1].message.get("id"), "input": question}

    return build


def tool_results_by_id(turns: list[Turn]) -> dict[str, Any]:
    """The function calls answered through server-side state: ``previous_response_id`` and one
    ``function_call_output`` per call (OpenAI guide, Function calling, the Responses flow)."""
    return {**_base(turns), "previous_response_id": turns[-1].message.get("id"),
            "input": tool_outputs(turns[-1].message)}


def tool_results_replayed(turns: list[Turn]) -> dict[str, Any]:
    """The function calls answered statelessly (``store: false``): the previous input, every output item replayed
    as the client kept it, and one ``function_call_output`` per call (OpenAI guide, Conversation state: "manually
    manage conversation state")."""
    last = turns[-1]
    body = copy.deepcopy(last.request)
    body.pop("tool_choice", None)  # the answer to a forced call is text: forcing again would loop
    given = body.get("input")
    history = given if isinstance(given, list) else [{"role": "user", "content": given}]
    body["input"] = [*history, *output_of(last.message), *tool_outputs(last.message)]
    return body


def stored_id(turns: list[Turn]) -> Any:
    """The id of the conversation's first response (the stored one a lifecycle reads back), as the server gave it:
    the step that puts it in a URL decides whether it can (``operation.plain_id``)."""
    return turns[0].message.get("id")


def summary(value: Any) -> str:
    return json.dumps(value)[:80]
