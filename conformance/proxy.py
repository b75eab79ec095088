"""A loopback recording proxy: any HTTP client (the Node SDK, curl, ...) is pointed at it as its base URL.

It forwards each request to the target with httpx, through the same capture, cassette layer (vcrpy patches
httpx in this process), scrubbing and matching as the Python surfaces, so every client is recorded and replayed
alike. Clients never hold the real key: the proxy adds the target's credentials itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from conformance.exchange import Capture
from conformance.transport import classify_exception, tls_context

# What clients send as their key: the proxy replaces it with the target's own credentials.
CLIENT_KEY = "conformance-proxy-client"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host",
              "authorization", "x-goog-api-key", "api-key", "accept-encoding"}


class RecordingProxy:
    """``with RecordingProxy(upstream_base, auth_headers, auth_query, capture) as proxy: proxy.base_url``."""

    def __init__(self, upstream_base: str, auth_headers: dict[str, str], auth_query: dict[str, str],
                 capture: Capture, timeout_s: float = 60.0, port: int = 0) -> None:
        self.upstream_base = upstream_base.rstrip("/") + "/"
        self.auth_headers = auth_headers
        self.auth_query = auth_query
        self.capture = capture
        self.timeout_s = timeout_s
        self.failures: list[tuple[str, str]] = []  # (kind, message) of requests that got no upstream answer
        self._httpd = _Server(("127.0.0.1", port), _handler(self.forward))
        # A short poll interval: shutdown() waits for it, once per case.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="conformance-proxy", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1/"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str],
                                                                                              bytes]:
        endpoint = path.split("?", 1)[0].removeprefix("/v1/").lstrip("/")
        outgoing = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        outgoing.update(self.auth_headers)
        try:
            with httpx.Client(event_hooks=self.capture.hooks, timeout=self.timeout_s, verify=tls_context()) as client:
                response = client.request(method, self.upstream_base + endpoint, content=body, headers=outgoing,
                                          params=self.auth_query)
        except Exception as exc:
            self.capture.note_error(exc)
            kind, message = classify_exception(exc)
            self.failures.append((kind, self.capture.scrubber.text(message)))
            payload = {"error": {"message": f"conformance proxy: {self.failures[-1][1]}", "type": "proxy_error",
                                 "param": None, "code": kind}}
            return 599, {"content-type": "application/json"}, json.dumps(payload).encode()
        passed = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        return response.status_code, passed, response.content


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close: a client that gave up (timeout) must not leave the exchange half-told.
    daemon_threads = False


def _handler(forward: Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = forward(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.send_header("connection", "close")  # one request per connection: the proxy lives for one case
            self.close_connection = True
            self.end_headers()
            try:
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up

        do_GET = do_POST = do_DELETE = _relay

    return Handler
