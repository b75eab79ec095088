"""SYNTHETIC stand-in behaviour: a server that attaches a field of its own to its assistant messages and (when
``required``) refuses a next turn whose assistant message does not carry it back, as Gemini 3 does with
``extra_content.google.thought_signature``. The field's name and place are the test's choice, so that nothing in the
suite can depend on Gemini's spelling. The control twin sends the same field and never requires it."""

from __future__ import annotations

import json
from typing import Any

from tests.standin.server import Reply, _error


def _add(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _has(target: Any, path: tuple[str, ...], value: Any) -> bool:
    for key in path:
        if not isinstance(target, dict) or key not in target:
            return False
        target = target[key]
    return target == value


def echo_extension(path: tuple[str, ...], value: str, *, on: str = "tool_call", required: bool = True) -> Any:
    """A mutation for StandinServer.mutations: ``path`` is where the field sits in each tool call (``on="tool_call"``)
    or in the assistant message (``on="message"``)."""

    def carries(message: dict[str, Any]) -> bool:
        if on == "message":
            return _has(message, path, value)
        return all(_has(call, path, value) for call in message.get("tool_calls") or [])

    def mutate(path_: str, request: dict[str, Any], reply: Reply) -> Reply:
        if not path_.endswith("chat/completions"):
            return reply
        for message in request.get("messages") or []:
            if required and message.get("role") == "assistant" and message.get("tool_calls") and not carries(message):
                return _error(400, "An assistant message is missing its state token", "invalid_request_error",
                              "invalid_value", "messages")
        if isinstance(reply.body, dict):
            for choice in reply.body.get("choices") or []:
                message = choice.get("message") or {}
                if message.get("tool_calls"):
                    if on == "message":
                        _add(message, path, value)
                    for call in message["tool_calls"] if on == "tool_call" else []:
                        _add(call, path, value)
        if reply.events:
            events = []
            for event in reply.events:
                data = json.loads(event) if event != "[DONE]" else None
                for choice in (data or {}).get("choices") or []:
                    for call in choice.get("delta", {}).get("tool_calls") or []:
                        if call.get("id"):  # the call's first delta
                            if on == "tool_call":
                                _add(call, path, value)
                            else:
                                _add(choice["delta"], path, value)
                events.append(json.dumps(data) if data is not None else event)
            reply.events = events
        return reply

    return mutate


def repeat_call_identity_and_check_names() -> Any:
    """Like llama.cpp's server: every streamed tool-call delta repeats the call's id and name (the Python SDK's
    accumulator then joins the names); and a next turn whose assistant message calls a tool that was not declared
    is refused (as a server that validates the history does)."""

    def mutate(path_: str, request: dict[str, Any], reply: Reply) -> Reply:
        if not path_.endswith("chat/completions"):
            return reply
        declared = {t["function"]["name"] for t in request.get("tools") or []}
        for message in request.get("messages") or []:
            for call in message.get("tool_calls") or [] if message.get("role") == "assistant" else []:
                if call.get("function", {}).get("name") not in declared:
                    return _error(400, "The history calls a tool that was not declared", "invalid_request_error",
                                  "invalid_value", "messages")
        if reply.events:
            identity: dict[int, dict[str, Any]] = {}
            events = []
            for event in reply.events:
                data = json.loads(event) if event != "[DONE]" else None
                for choice in (data or {}).get("choices") or []:
                    for call in choice.get("delta", {}).get("tool_calls") or []:
                        if call.get("id"):
                            identity[call["index"]] = {"id": call["id"], "name": call["function"]["name"]}
                        elif call["index"] in identity:
                            call["id"] = identity[call["index"]]["id"]
                            call.setdefault("function", {})["name"] = identity[call["index"]]["name"]
                events.append(json.dumps(data) if data is not None else event)
            reply.events = events
        return reply

    return mutate
