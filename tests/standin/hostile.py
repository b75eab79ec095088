"""A SYNTHETIC hostile server on loopback, for the suite's own safety tests only.

It speaks raw HTTP/1.1 over a socket so that it can do what a well-behaved framework would not: stream forever,
send endless ``102 Processing`` interim answers, drip one byte at a time, inflate a gzip bomb, redirect to another
origin with the key in the URL, hand the key back encoded, in a header name or in the reason phrase. Every loop
is bounded in time (``LIMIT_S``) and the server only listens on 127.0.0.1. It is not a recording of anyone.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.standin import server as standin

LIMIT_S = 20.0  # no behaviour of this server lasts longer than this, whatever the client does

# A behaviour gets (handler, request path, parsed body, the reply a conformant server would give) and writes.
Behaviour = Callable[["_Handler", str, dict[str, Any], standin.Reply], None]


class HostileServer:
    def __init__(self, api_key: str, host: str = "127.0.0.1") -> None:
        self.api_key = api_key
        self.behaviours: list[tuple[Callable[[str, dict[str, Any]], bool], Behaviour]] = []
        self.requests: list[tuple[str, str, dict[str, Any]]] = []  # (request line, raw headers, body)
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/"

    def on(self, matches: Callable[[str, dict[str, Any]], bool], behaviour: Behaviour) -> None:
        self.behaviours.append((matches, behaviour))

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.connection.settimeout(LIMIT_S)
        try:
            line = self.rfile.readline(65536).decode("latin-1")
            headers: dict[str, str] = {}
            raw_headers = ""
            while True:
                header = self.rfile.readline(65536).decode("latin-1")
                raw_headers += header
                if header in ("\r\n", "\n", ""):
                    break
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            body_bytes = self.rfile.read(length) if length else b""
        except (OSError, ValueError):
            return
        try:
            body = json.loads(body_bytes or b"{}")
        except ValueError:
            body = {}
        owner = self.server.owner
        owner.requests.append((line, raw_headers, body))
        path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
        reply = standin.answer(path.split("?")[0], body) if body else standin.bad_key_reply()
        for matches, behaviour in owner.behaviours:
            if matches(path, body):
                try:
                    behaviour(self, path, body, reply)
                except OSError:
                    pass  # the client hung up: that is what the suite is meant to do
                return
        self.send(200, "OK", {"content-type": "application/json"}, json.dumps(reply.body).encode())

    def send(self, status: int, reason: str, headers: dict[str, str], body: bytes, *, length: bool = True) -> None:
        head = f"HTTP/1.1 {status} {reason}\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        if length:
            head += f"content-length: {len(body)}\r\n"
        head += "connection: close\r\n\r\n"
        self.wfile.write(head.encode("latin-1") + body)
        self.wfile.flush()


def for_case(case_id: str) -> Callable[[str, dict[str, Any]], bool]:
    """Matches the requests of one catalogue case (by its body, as the stand-in profile fills it in)."""
    from conformance.catalogue import case_by_id
    from conformance.run.profiles import load_profile

    case = case_by_id(case_id)
    expected = case.request_body(load_profile("tests/standin/standin.toml"))

    def matches(path: str, body: dict[str, Any]) -> bool:
        return path.split("?")[0].endswith(case.endpoint) and body == expected

    return matches


def _until_limit() -> Iterator[int]:
    started = time.monotonic()
    number = 0
    while time.monotonic() - started < LIMIT_S:
        yield number
        number += 1


def endless_stream(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
    chunk = json.loads((reply.events or ["{}"])[1]) if reply.events else {}
    event = f"data: {json.dumps(chunk)}\n\n".encode() * 200
    for _ in _until_limit():
        handler.wfile.write(event)


def endless_processing(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
    for _ in _until_limit():
        handler.wfile.write(b"HTTP/1.1 102 Processing\r\n\r\n")
        handler.wfile.flush()
        time.sleep(0.01)


def drip(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
    payload = json.dumps(reply.body).encode()
    handler.wfile.write(f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
                        "connection: close\r\n\r\n".encode())
    for number in _until_limit():
        if number >= len(payload):
            return
        handler.wfile.write(payload[number:number + 1])
        handler.wfile.flush()
        time.sleep(0.25)


@functools.cache
def _inflating_to(inflated_mb: int) -> bytes:
    """A gzip body of ``inflated_mb`` MB of zeros (about 230:1), made 1 MB at a time and only when first sent: at
    import it cost every test process 2 s and 400 MB of memory."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    zeros = bytes(1_000_000)
    return b"".join([*(packer.compress(zeros) for _ in range(inflated_mb)), packer.flush()])


def gzip_bomb(inflated_mb: int) -> Behaviour:
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        handler.send(200, "OK", {"content-type": "application/json", "content-encoding": "gzip"},
                     _inflating_to(inflated_mb))

    return send


def double_gzip_bomb(inflated_mb: int) -> Behaviour:
    """``Content-Encoding: gzip, gzip``: a few KB on the wire that inflate twice into ``inflated_mb`` MB."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        handler.send(200, "OK", {"content-type": "application/json", "content-encoding": "gzip, gzip"},
                     gzip.compress(_inflating_to(inflated_mb), 9))

    return send


def many_choices(count: int) -> Behaviour:
    """A completion with ``count`` choices (within the byte cap: about 100 bytes each)."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        choice = ('{"index":%d,"message":{"role":"assistant","content":"x","refusal":null},"logprobs":null,'
                  '"finish_reason":"stop"}')
        choices = ",".join(choice % n for n in range(count))
        text = ('{"id":"c","object":"chat.completion","created":1700000000,"model":"m","choices":[' + choices +
                '],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}')
        handler.send(200, "OK", {"content-type": "application/json"}, text.encode())

    return send


def many_tool_calls(count: int) -> Behaviour:
    """One message with ``count`` tool calls."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        call = '{"id":"c%d","type":"function","function":{"name":"get_weather","arguments":"{}"},"index":%d}'
        calls = ",".join(call % (n, n) for n in range(count))
        text = ('{"id":"c","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,'
                '"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[' + calls + ']},'
                '"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":1,'
                '"total_tokens":2}}')
        handler.send(200, "OK", {"content-type": "application/json"}, text.encode())

    return send


def many_tiny_events(count: int) -> Behaviour:
    """A stream of ``count`` events with nothing in them (``data: {}``), then [DONE]."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        handler.send(200, "OK", {"content-type": "text/event-stream"}, b"data: {}\n\n" * count + b"data: [DONE]\n\n")

    return send


def many_escaped_choices(count: int) -> Behaviour:
    """``count`` choices whose keys are spelt with JSON escapes (``"\\u0069ndex"``): the same answer to any JSON
    reader, another spelling to a substring count."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        choice = ('{"\\u0069ndex":%d,"m\\u0065ssage":{"role":"assistant","content":"x"},'
                  '"finish_reason":"stop"}')
        text = ('{"id":"c","object":"chat.completion","created":1700000000,"model":"m","choices":['
                + ",".join(choice % n for n in range(count)) + "]}")
        handler.send(200, "OK", {"content-type": "application/json"}, text.encode())

    return send


def one_event_of_many_parts(count: int) -> Behaviour:
    """A stream of one event whose chunk holds ``count`` choices, then [DONE]."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        parts = ",".join(f'{{"index":{n},"delta":{{"content":"x"}}}}' for n in range(count))
        event = ('data: {"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":['
                 + parts + "]}\n\n")
        handler.send(200, "OK", {"content-type": "text/event-stream"}, event.encode() + b"data: [DONE]\n\n")

    return send


def many_floats(count: int) -> Behaviour:
    """An embeddings list whose one vector has ``count`` elements."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        text = ('{"object":"list","model":"m","data":[{"object":"embedding","index":0,"embedding":['
                + ",".join(["0.1"] * count) + ']}],"usage":{"prompt_tokens":1,"total_tokens":1}}')
        handler.send(200, "OK", {"content-type": "application/json"}, text.encode())

    return send


def many_output_items(count: int) -> Behaviour:
    """A Responses API response whose output holds ``count`` message items (about 120 bytes each)."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        item = ('{"type":"message","id":"msg_%d","status":"completed","role":"assistant","content":[{"type":'
                '"output_text","text":"x","annotations":[]}]}')
        text = ('{"id":"resp_1","object":"response","created_at":1700000000,"status":"completed","model":"m",'
                '"output":[' + ",".join(item % n for n in range(count)) + '],"usage":{"input_tokens":1,'
                '"output_tokens":1,"total_tokens":2}}')
        handler.send(200, "OK", {"content-type": "application/json"}, text.encode())

    return send


def many_named_events(count: int) -> Behaviour:
    """A Responses API stream of ``count`` events named as text deltas, with a delta and nothing else in them."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        event = b'event: response.output_text.delta\ndata: {"delta":"x"}\n\n'
        handler.send(200, "OK", {"content-type": "text/event-stream"}, event * count)

    return send


def endless_named_stream(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
    """A Responses API stream that never ends: text deltas with a growing sequence number, as fast as the socket
    takes them (until LIMIT_S)."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
    for number in _until_limit():
        handler.wfile.write(b"".join(
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":%d,'
            b'"item_id":"msg_1","output_index":0,"content_index":0,"delta":"x"}\n\n' % (number * 200 + k)
            for k in range(200)))


def large_deltas(count: int, size: int = 5000) -> Behaviour:
    """A stream of ``count`` content deltas of ``size`` characters each: few JSON values, many megabytes."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        piece = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
                            "system_fingerprint": None, "choices": [{"index": 0, "delta": {"content": "x" * size},
                                                                     "logprobs": None, "finish_reason": None}]})
        handler.send(200, "OK", {"content-type": "text/event-stream"},
                     (f"data: {piece}\n\n" * count + "data: [DONE]\n\n").encode())

    return send


def legal_large_stream(megabytes: int) -> Behaviour:
    """A legal stream of about ``megabytes`` MB: many content deltas of 1 KB each, a finish, [DONE]."""
    def send(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
        piece = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
                            "system_fingerprint": None, "choices": [{"index": 0, "delta": {"content": "x" * 1000},
                                                                     "logprobs": None, "finish_reason": None}]})
        last = json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
                           "system_fingerprint": None, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                                                    "finish_reason": "stop"}]})
        line = f"data: {piece}\n\n"
        events = line * (megabytes * 1_000_000 // len(line)) + f"data: {last}\n\ndata: [DONE]\n\n"
        handler.send(200, "OK", {"content-type": "text/event-stream"}, events.encode())

    return send


def short_content_length(handler: _Handler, path: str, body: dict[str, Any], reply: standin.Reply) -> None:
    """A stream whose Content-Length stops short, inside its second event (the rest is never read)."""
    text = "".join(f"data: {event}\n\n" for event in reply.events or []).encode()
    cut = text.index(b"\n\n") + 2 + 20
    head = (f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {cut}\r\n"
            "connection: close\r\n\r\n")
    handler.wfile.write(head.encode("latin-1") + text)
    handler.wfile.flush()


@contextmanager
def hostile(api_key: str, host: str = "127.0.0.1") -> Iterator[HostileServer]:
    with HostileServer(api_key, host) as server:
        yield server


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
