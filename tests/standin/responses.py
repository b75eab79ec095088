"""The SYNTHETIC stand-in's Responses API (tests only, not a recording of any provider): responses kept in memory,
answered the way OpenAI documents them (a response object, or named events numbered from 0 with one terminal
event), with the conversation state ``previous_response_id`` and ``store`` give, so that the suite's Responses
cases, flows and lifecycle PASS against it; tests break it on purpose through the stand-in's mutations.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

CREATED = 1_700_000_000
ANSWER = "Hello! The sky is blue."


def _error(status: int, message: str, code: str | None, param: str | None = None) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def _function_tools(request: dict[str, Any]) -> list[dict[str, Any]]:
    tools = request.get("tools")
    return [t for t in tools if isinstance(t, dict) and t.get("type") == "function"] if isinstance(tools, list) else []


def _last_user_text(request: dict[str, Any]) -> str:
    given = request.get("input")
    if isinstance(given, str):
        return given
    for item in reversed(given if isinstance(given, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _answered_calls(request: dict[str, Any]) -> bool:
    given = request.get("input")
    return isinstance(given, list) and any(isinstance(i, dict) and i.get("type") == "function_call_output"
                                           for i in given)


def _calls(request: dict[str, Any]) -> list[dict[str, Any]]:
    tools = _function_tools(request)
    choice = request.get("tool_choice", "auto")
    if not tools or choice == "none" or _answered_calls(request):
        return []
    names = [t["name"] for t in tools]
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = [t.get("name") for t in choice.get("tools") or []]
        names = [name for name in names if name in allowed][:1]
    elif isinstance(choice, dict) and choice.get("name"):
        names = [choice["name"]]
    elif "both" not in _last_user_text(request) or request.get("parallel_tool_calls") is False:
        names = names[:1]
    return [{"type": "function_call", "id": f"fc_standin_{n}", "call_id": f"call_standin_{n}", "name": name,
             "arguments": json.dumps({"location": "Chicago, IL"}), "status": "completed"}
            for n, name in enumerate(names)]


def _text(request: dict[str, Any], history: list[str]) -> str:
    text = request.get("text")
    format_ = text.get("format") if isinstance(text, dict) else None
    if isinstance(format_, dict) and format_.get("type") in ("json_schema", "json_object"):
        return json.dumps({"city": "Paris", "country": "France"})
    if "name" in _last_user_text(request).lower() and any("Ada" in said for said in history):
        return "Your name is Ada."
    return ANSWER


@dataclass
class ResponsesService:
    """Responses by id; ``store: false`` ones are answered and forgotten (as OpenAI documents)."""

    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)  # what was said along a chain, for recall
    _ids: Any = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handles(self, path: str) -> bool:
        return path.split("?")[0].split("/v1/", 1)[-1].startswith("responses")

    def answer(self, method: str, path: str, request: dict[str, Any]) -> tuple[int, Any, bool]:
        """(status, body or events, whether it is a stream)."""
        parts = path.split("?")[0].split("/v1/", 1)[-1].split("/")
        with self._lock:
            if parts == ["responses"] and method == "POST":
                return self.create(request)
            response_id = parts[1] if len(parts) > 1 else ""
            found = self.stored.get(response_id)
            if found is None:
                status, body = _error(404, f"Response with id '{response_id}' not found.", "not_found")
                return status, body, False
            if len(parts) == 2 and method == "GET":
                return 200, found, False
            if len(parts) == 2 and method == "DELETE":
                del self.stored[response_id]
                return 200, {"id": response_id, "object": "response", "deleted": True}, False
            if parts[2:] == ["input_items"]:
                items = self.inputs.get(response_id, [])
                return 200, {"object": "list", "data": items, "first_id": items[0]["id"] if items else None,
                             "last_id": items[-1]["id"] if items else None, "has_more": False}, False
            if parts[2:] == ["cancel"]:
                if not found.get("background"):
                    status, body = _error(400, "Only background responses can be cancelled.", None)
                    return status, body, False
                found.update(status="cancelled")
                return 200, found, False
        status, body = _error(404, "Unknown path", None)
        return status, body, False

    def create(self, request: dict[str, Any]) -> tuple[int, Any, bool]:
        previous = request.get("previous_response_id")
        history: list[str] = []
        if previous is not None:
            if previous not in self.stored:
                status, body = _error(400, f"Previous response with id '{previous}' not found.",
                                      "previous_response_not_found", "previous_response_id")
                return status, body, False
            history = self.history.get(previous, [])
        number = next(self._ids)
        status, result = build(request, f"resp_standin_{number}", [*history, _last_user_text(request)])
        if status != 200:
            return status, result, False
        response = result if not request.get("stream") else json.loads(result[-1])["response"]
        if request.get("store", True) is not False:
            self.stored[response["id"]] = response
            self.history[response["id"]] = [*history, _last_user_text(request)]
            given = request.get("input")
            items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": given}]}] \
                if isinstance(given, str) else [i for i in given or [] if isinstance(i, dict)]
            self.inputs[response["id"]] = [{"id": f"msg_in_{number}_{k}", **item} for k, item in enumerate(items)]
        return 200, result, bool(request.get("stream"))


def build(request: dict[str, Any], response_id: str, history: list[str] | None = None) -> tuple[int, Any]:
    """The answer to a create request: (200, a response object, or the event strings of its stream), or an error
    (status, body) where OpenAI refuses the request."""
    from tests.standin.server import CHAT_MODEL

    if request.get("model") != CHAT_MODEL:
        return _error(400, f"The requested model '{request.get('model')}' does not exist.", "model_not_found",
                      "model")
    temperature = request.get("temperature", 1)
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        return _error(400, "Invalid 'temperature': decimal below minimum value.", "decimal_below_min_value",
                      "temperature")
    calls = _calls(request)
    text = None if calls else _text(request, history or [])
    limit = request.get("max_output_tokens")
    status, details, made = "completed", None, 3
    if isinstance(limit, int) and limit < 20 and "long" in _last_user_text(request):
        status, details, made = "incomplete", {"reason": "max_output_tokens"}, limit
        text = "Computing began"
    output: list[dict[str, Any]] = list(calls)
    include = request.get("include") if isinstance(request.get("include"), list) else []
    if text is not None:
        logprobs = [{"token": word, "logprob": -0.1, "bytes": list(word.encode()), "top_logprobs": []}
                    for word in re.findall(r"\S+\s*|\s+", text)] if "message.output_text.logprobs" in include else []
        output.append({"type": "message", "id": f"msg_{response_id}", "role": "assistant", "status": status,
                       "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}]})
    reasoning = request.get("reasoning") if isinstance(request.get("reasoning"), dict) else {}
    if reasoning and ("reasoning.encrypted_content" in include or reasoning.get("summary")):
        summary = [{"type": "summary_text", "text": "**Greeting**\n\nThe user wants a short hello."}] \
            if reasoning.get("summary") else []
        output.insert(0, {"type": "reasoning", "id": f"rs_{response_id}", "summary": summary,
                          **({"encrypted_content": "c3RhbmRpbi1yZWFzb25pbmc="}
                             if "reasoning.encrypted_content" in include else {})})
    if request.get("background"):
        status, output, made = "queued", [], 0
    response = {
        "id": response_id, "object": "response", "created_at": CREATED, "status": status, "error": None,
        "incomplete_details": details, "instructions": request.get("instructions"), "model": CHAT_MODEL,
        "output": output, "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "metadata": request.get("metadata") or {}, "tools": request.get("tools") or [],
        "tool_choice": request.get("tool_choice", "auto"), "temperature": temperature, "top_p": 1.0,
        "previous_response_id": request.get("previous_response_id"), "max_output_tokens": limit,
        "store": request.get("store", True), "text": request.get("text") or {"format": {"type": "text"}},
        "background": bool(request.get("background")),
        "usage": None if status == "queued" else {
            "input_tokens": 9, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": made,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 9 + made},
    }
    if not request.get("stream"):
        return 200, response
    return 200, list(stream_events(response))


def stream_events(response: dict[str, Any]) -> list[str]:
    """The response as OpenAI streams it: created, in_progress, each item added / filled / done, the terminal event;
    numbered from 0."""
    events: list[dict[str, Any]] = []
    opening = {**response, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    events += [{"type": "response.created", "response": opening},
               {"type": "response.in_progress", "response": opening}]
    for index, item in enumerate(response["output"]):
        common = {"output_index": index, "item_id": item["id"]}
        if item["type"] == "reasoning":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "summary": []}})
            for summary_index, entry in enumerate(item["summary"]):
                part = {"type": "summary_text", "text": ""}
                events.append({"type": "response.reasoning_summary_part.added", **common,
                               "summary_index": summary_index, "part": part})
                for n, word in enumerate(entry["text"].split(" ")):
                    events.append({"type": "response.reasoning_summary_text.delta", **common,
                                   "summary_index": summary_index, "delta": word if n == 0 else " " + word})
                events.append({"type": "response.reasoning_summary_text.done", **common,
                               "summary_index": summary_index, "text": entry["text"]})
                events.append({"type": "response.reasoning_summary_part.done", **common,
                               "summary_index": summary_index, "part": {**part, "text": entry["text"]}})
        elif item["type"] == "function_call":
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "arguments": "", "status": "in_progress"}})
            half = len(item["arguments"]) // 2
            for piece in (item["arguments"][:half], item["arguments"][half:]):
                events.append({"type": "response.function_call_arguments.delta", **common, "delta": piece})
            events.append({"type": "response.function_call_arguments.done", **common,
                           "arguments": item["arguments"]})
        else:
            text = item["content"][0]["text"]
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append({"type": "response.output_item.added", "output_index": index,
                           "item": {**item, "content": [], "status": "in_progress"}})
            events.append({"type": "response.content_part.added", **common, "content_index": 0, "part": part})
            words = text.split(" ")
            for n, word in enumerate(words):
                events.append({"type": "response.output_text.delta", **common, "content_index": 0,
                               "delta": word if n == 0 else " " + word, "logprobs": []})
            events.append({"type": "response.output_text.done", **common, "content_index": 0, "text": text,
                           "logprobs": []})
            events.append({"type": "response.content_part.done", **common, "content_index": 0,
                           "part": {**part, "text": text}})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    terminal = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    events.append({"type": terminal, "response": response})
    return [json.dumps({**event, "sequence_number": number}) for number, event in enumerate(events)]
