"""A SYNTHETIC OpenAI-compatible server on loopback, for the suite's own tests only.

It answers the catalogue's requests the way the OpenAI API documents them (so a run against it should be all
PASS), and can be told to misbehave per path so tests can watch a deviation travel to a verdict. It is not a
recording of any real provider and must never be presented as one.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

ANSWER = "Sky blue"
CHAT_MODEL = "standin-chat"
EMBEDDING_MODEL = "standin-embed"
EMBEDDING_SIZE = 8

# A mutation takes (path, request body, response) and returns the response to send; see Reply.
Mutation = Callable[[str, dict[str, Any], "Reply"], "Reply"]


class Reply:
    """What to answer. ``raw`` bytes go out as they are; ``stall_s`` waits before answering; ``cut_at`` closes the
    connection after that many bytes of the body (the headers announce the whole length)."""

    def __init__(self, status: int = 200, body: Any = None, *, events: list[str] | None = None,
                 headers: dict[str, str] | None = None, raw: bytes | None = None, stall_s: float = 0.0,
                 cut_at: int | None = None, named: bool = False) -> None:
        self.status = status
        self.body = body
        self.events = events
        self.named = named  # each event goes out with an ``event:`` field naming its type (the Responses API's)
        self.headers = headers or {}
        self.raw = raw
        self.stall_s = stall_s
        self.cut_at = cut_at


def _usage(prompt: int = 9, completion: int = 2, reasoning: bool = False) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if reasoning:  # a reasoning request: OpenAI's usage says how many completion tokens were reasoning
        usage["completion_tokens_details"] = {"reasoning_tokens": 0}
    return usage


def _reasoning(request: dict[str, Any]) -> bool:
    return isinstance(request.get("reasoning_effort"), str) and request["reasoning_effort"] != "none"


def _error(status: int, message: str, type_: str, code: str | None, param: str | None = None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": param, "code": code}})


def _tool_calls(request: dict[str, Any]) -> list[dict[str, Any]]:
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    choice = request.get("tool_choice", "auto")
    last = request["messages"][-1]
    if not tools or choice == "none" or last.get("role") == "tool":
        return []
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = [t["function"]["name"] for t in choice["allowed_tools"]["tools"]]
        tools = [name for name in tools if name in allowed][:1]
    elif isinstance(choice, dict):
        tools = [choice["function"]["name"]]
    elif "both tools" not in str(last.get("content")):
        tools = tools[:1]
    declared = {t["function"]["name"]: t["function"] for t in request.get("tools") or []}
    return [
        {"id": f"call_standin_{n}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(_arguments(declared.get(name, {})))}}
        for n, name in enumerate(tools)
    ]


def _arguments(function: dict[str, Any]) -> dict[str, Any]:
    """A location, and for a strict function every other required property too (its first enum value)."""
    arguments: dict[str, Any] = {"location": "Chicago, IL"}
    properties = (function.get("parameters") or {}).get("properties") or {}
    for name in (function.get("parameters") or {}).get("required") or [] if function.get("strict") else []:
        if name not in arguments and isinstance(properties.get(name), dict):
            arguments[name] = (properties[name].get("enum") or ["x"])[0]
    return arguments


def _openai_rejection(request: dict[str, Any], endpoint: str = "chat/completions") -> Reply | None:
    """What OpenAI was recorded answering to this invalid value (conformance/data/openai-answers.json), if any."""
    from conformance.judge.openai_answers import table

    for fact in table()["facts"]:
        if fact["endpoint"] != endpoint:
            continue
        param, value = fact["param"], fact["value"]
        present = param in request
        if (value == "<absent>" and not present and "." not in param and "[" not in param) or (
                present and request[param] == value and type(request[param]) is type(value)):
            return _error(fact["status"], f"Invalid value for '{param}'", fact["type"], fact["code"],
                          fact["error_param"])
    temperature = request.get("temperature", 1)
    if not isinstance(temperature, (int, float)):
        return _error(400, "Invalid type for 'temperature'", "invalid_request_error", "invalid_type", "temperature")
    return None


def chat_reply(request: dict[str, Any]) -> Reply:
    if request.get("model") != CHAT_MODEL:
        return _error(404, f"The model `{request.get('model')}` does not exist", "invalid_request_error",
                      "model_not_found")
    rejected = _openai_rejection(request)
    if rejected is not None:
        return rejected
    calls = _tool_calls(request)
    text = ANSWER
    if (request.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
        text = json.dumps({"city": "Paris", "country": "France"})
    finish = "tool_calls" if calls else "stop"
    if request.get("max_tokens") is not None and request["max_tokens"] < 2:
        text, finish = "Sky", "length"
    for stop in request.get("stop") or []:
        text = text.split(stop)[0]
    n = request.get("n") or 1
    created = 1_700_000_000
    if request.get("stream"):
        return Reply(200, events=list(_stream_events(request, text, calls, finish, created)))

    def message(number: int) -> dict[str, Any]:
        # Choices are sampled independently: each says something of its own (chat.choices.distinct).
        said = text if number == 0 or finish == "length" else f"{text} ({number + 1})"
        reply: dict[str, Any] = {"role": "assistant", "content": None if calls else said, "refusal": None}
        if calls:
            reply["tool_calls"] = calls
        return reply

    return Reply(200, {
        "id": "chatcmpl-standin", "object": "chat.completion", "created": created, "model": CHAT_MODEL,
        "system_fingerprint": None,
        "choices": [{"index": i, "message": message(i), "logprobs": _logprobs(request, message(i)["content"] or ""),
                     "finish_reason": finish} for i in range(n)],
        "usage": _usage(completion=min(2, request.get("max_tokens") or 2) * n, reasoning=_reasoning(request)),
    })


def _logprobs(request: dict[str, Any], text: str) -> dict[str, Any] | None:
    if request.get("logprobs") is not True:
        return None
    top = request.get("top_logprobs") or 0

    def token(word: str, logprob: float) -> dict[str, Any]:
        return {"token": word, "logprob": logprob, "bytes": list(word.encode())}

    return {"content": [{**token(word, -0.1), "top_logprobs": [token(word, -0.1 - k) for k in range(top)]}
                        for word in re.findall(r"\S+\s*|\s+", text)], "refusal": None}  # tokens spell the text


def _stream_events(request: dict[str, Any], text: str, calls: list[dict[str, Any]], finish: str,
                   created: int) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> str:
        return json.dumps({"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": created,
                           "model": CHAT_MODEL, "system_fingerprint": None,
                           "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
                           **extra})

    include_usage = (request.get("stream_options") or {}).get("include_usage")
    usage_null = {"usage": None} if include_usage else {}
    yield chunk({"role": "assistant", "content": ""}, **usage_null)
    if calls:
        for index, call in enumerate(calls):
            yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                         "function": {"name": call["function"]["name"], "arguments": ""}}]},
                        **usage_null)
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            for part in (arguments[:half], arguments[half:]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}, **usage_null)
    else:
        for word in text.split(" "):
            yield chunk({"content": word if word == text.split(" ")[0] else " " + word}, **usage_null)
    yield chunk({}, finish, **usage_null)
    if include_usage:
        yield json.dumps({"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": created,
                          "model": CHAT_MODEL, "system_fingerprint": None, "choices": [],
                          "usage": _usage(reasoning=_reasoning(request))})
    yield "[DONE]"


def embeddings_reply(request: dict[str, Any]) -> Reply:
    if request.get("model") != EMBEDDING_MODEL:
        return _error(404, "model not found", "invalid_request_error", "model_not_found")
    rejected = _openai_rejection(request, "embeddings")
    if rejected is not None:
        return rejected
    inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
    size = request.get("dimensions") or EMBEDDING_SIZE
    data = []
    for index, text in enumerate(inputs):
        vector = [((len(str(text)) * (i + 1)) % 7) / 7.0 + 0.25 for i in range(size)]
        value: Any = vector
        if request.get("encoding_format") == "base64":
            value = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    return Reply(200, {"object": "list", "data": data, "model": EMBEDDING_MODEL,
                       "usage": {"prompt_tokens": 4 * len(inputs), "total_tokens": 4 * len(inputs)}})


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "standin"}


def answer(path: str, request: dict[str, Any]) -> Reply:
    """What the stand-in answers to an authorised request on ``path`` (no network involved)."""
    if path.endswith("/models") or path == "models":
        return Reply(200, {"object": "list", "data": [_model(CHAT_MODEL), _model(EMBEDDING_MODEL)]})
    if "/models/" in f"/{path}":
        model_id = path.rsplit("/models/", 1)[-1] if "/models/" in path else path.split("/", 1)[1]
        if model_id in (CHAT_MODEL, EMBEDDING_MODEL):
            return Reply(200, _model(model_id))
        return _error(404, f"The model '{model_id}' does not exist", "invalid_request_error", "model_not_found")
    if path.endswith("/chat/completions") or path == "chat/completions":
        return chat_reply(request)
    if path.endswith("/embeddings") or path == "embeddings":
        return embeddings_reply(request)
    if path.split("?")[0].endswith("/responses") or path == "responses":
        from tests.standin.responses import ResponsesService

        status, answered, streamed = ResponsesService().create(request)  # nothing stored: a fresh one each time
        return Reply(status, events=answered, named=True) if streamed else Reply(status, answered)
    if path.endswith("images/generations"):
        from conformance.catalogue.cases import tiny_png_data_url

        size = request.get("size") if isinstance(request.get("size"), str) else ""
        side = int(size.split("x")[0]) if size.split("x")[0].isdigit() else 8  # the size asked for (square)
        image = tiny_png_data_url(side).split(",", 1)[1]
        return Reply(200, {"created": 1_700_000_000,
                           "data": [{"b64_json": image} for _ in range(request.get("n") or 1)]})
    return _error(404, "Unknown path", "invalid_request_error", None)


def sse_text(reply: Reply) -> str:
    """The reply's events as an event stream: data lines, each named by its type when the reply says so."""
    def name(event: str) -> str:
        try:
            kind = json.loads(event).get("type") if reply.named else None
        except (ValueError, AttributeError):
            kind = None
        return f"event: {kind}\n" if isinstance(kind, str) else ""

    return "".join(f"{name(e)}data: {e}\n\n" for e in reply.events or [])


def bad_key_reply() -> Reply:
    return _error(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key")


class StandinServer:
    """Start with ``with StandinServer(api_key) as server: server.base_url``."""

    def __init__(self, api_key: str, *, echo_key_in_errors: bool = False) -> None:
        from tests.standin.batches import BatchService
        from tests.standin.responses import ResponsesService

        self.api_key = api_key
        self.echo_key_in_errors = echo_key_in_errors
        self.batch_api = BatchService()
        self.responses_api = ResponsesService()
        self.mutations: list[Mutation] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1/"

    def __enter__(self) -> StandinServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def respond(self, path: str, headers: dict[str, str], request: dict[str, Any], method: str = "") -> Reply:
        path, _, query = path.partition("?")
        keys = {headers.get("authorization", "").removeprefix("Bearer "), headers.get("x-goog-api-key", ""),
                *(v for k, v in parse_qsl(query) if k == "key")}
        sent = next((k for k in keys if k == self.api_key), headers.get("authorization", ""))
        if sent != self.api_key:
            reply = bad_key_reply()
        elif self.batch_api.handles(path):
            status, body, content_type = self.batch_api.answer(method or ("POST" if request else "GET"), path,
                                                               request)
            reply = Reply(status, raw=body.encode(), headers={"content-type": content_type}) if isinstance(body, str) \
                else Reply(status, body)
        elif self.responses_api.handles(path):
            status, answered, streamed = self.responses_api.answer(method or ("POST" if request else "GET"), path,
                                                                   request)
            reply = Reply(status, events=answered, named=True) if streamed else Reply(status, answered)
        else:
            reply = answer(path, request)
        for mutation in self.mutations:
            reply = mutation(path, request, reply)
        if self.echo_key_in_errors and reply.status >= 400 and isinstance(reply.body, dict):
            # Like servers that quote the rejected credential back: the key (when it was the right one) in the body.
            reply.body["error"]["message"] += f" (request made with key {sent})"
            reply.headers["x-echo-key"] = sent
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.path, headers, {}))
                self._send(server.respond(self.path, headers, {}, self.command))

            do_DELETE = do_GET

            def do_POST(self) -> None:
                from tests.standin.batches import parse_multipart

                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if headers.get("content-type", "").startswith("multipart/form-data"):
                    request = parse_multipart(headers["content-type"], raw)
                else:
                    try:
                        request = json.loads(raw or b"{}")
                    except ValueError:
                        request = {}
                server.requests.append((self.path, headers, request))
                reply = server.respond(self.path, headers, request, "POST")
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.raw is not None:
                    payload = reply.raw
                    content_type = reply.headers.get("content-type", "application/json")
                elif reply.events is not None:
                    payload = sse_text(reply).encode()
                    content_type = "text/event-stream"
                else:
                    payload = json.dumps(reply.body).encode()
                    content_type = "application/json"
                if reply.stall_s:
                    time.sleep(reply.stall_s)
                self.send_response(reply.status)
                self.send_header("content-type", content_type)
                for name, value in reply.headers.items():
                    if name != "content-type":
                        self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload if reply.cut_at is None else payload[: reply.cut_at])
                    if reply.cut_at is not None:
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the client gave up first (a timeout test)

        return Handler


@contextmanager
def running(api_key: str, **options: Any) -> Iterator[StandinServer]:
    with StandinServer(api_key, **options) as server:
        time.sleep(0.01)
        yield server
