"""A loopback recording proxy: any HTTP client (the Node SDK, curl, ...) is pointed at it as its base URL.

It forwards each request to the target with httpx, through the same capture, cassette layer (vcrpy patches
httpx in this process), scrubbing and matching as the Python surfaces, so every client is recorded and replayed
alike. Clients never hold the real key: the proxy adds the target's credentials itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from conformance.exchange import Capture
from conformance.options import DEFAULT_MAX_BODY_MB
from conformance.transport import Limits, classify_exception, new_client, origin

# What clients send as their key: the proxy replaces it with the target's own credentials.
CLIENT_KEY = "conformance-proxy-client"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host",
              "authorization", "x-goog-api-key", "api-key", "accept-encoding"}


class RecordingProxy:
    """``with RecordingProxy(upstream_base, auth_headers, auth_query, capture) as proxy: proxy.base_url``."""

    def __init__(self, upstream_base: str, auth_headers: dict[str, str], auth_query: dict[str, str],
                 capture: Capture, timeout_s: float = 60.0, port: int = 0,
                 max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1_000_000)) -> None:
        self.upstream_base = upstream_base.rstrip("/") + "/"
        self.auth_headers = auth_headers
        self.auth_query = auth_query
        self.capture = capture
        self.timeout_s = timeout_s
        self.limits = Limits(timeout_s, max_body_bytes)
        self.failures: list[tuple[str, str]] = []  # (kind, message) of requests that got no upstream answer
        self._httpd = _Server(("127.0.0.1", port), _handler(self.forward, timeout_s))
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
        """Stop within a bound whatever the clients do: handlers get until one exchange's deadline to finish."""
        self._httpd.shutdown()
        until = time.monotonic() + self.timeout_s + 5
        for thread in list(self._httpd.handler_threads):
            thread.join(timeout=max(0.0, until - time.monotonic()))
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str],
                                                                                              bytes]:
        endpoint = path.split("?", 1)[0].removeprefix("/v1/").lstrip("/")
        outgoing = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        outgoing.update(self.auth_headers)
        try:
            with new_client("httpx", self.limits, self.capture.hooks) as client:
                response = client.request(method, self.upstream_base + endpoint, content=body, headers=outgoing,
                                          params=self.auth_query)
        except Exception as exc:
            self.capture.note_error(exc)
            kind, message = classify_exception(exc)
            self.failures.append((kind, self.capture.scrubber.text(message)))
            payload = {"error": {"message": f"conformance proxy: {self.failures[-1][1]}", "type": "proxy_error",
                                 "param": None, "code": kind}}
            return 599, {"content-type": "application/json"}, json.dumps(payload).encode()
        scrub = self.capture.scrubber
        passed = {scrub.text(k): scrub.text(v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
        location = next((k for k in passed if k.lower() == "location"), None)
        if location is not None:
            # A client must never be handed a URL with the key, nor be sent to another origin: a redirect within
            # the target comes back through the proxy, any other is not offered at all.
            target = str(response.url.join(response.headers["location"]))
            if origin(target) == origin(self.upstream_base) and target.startswith(self.upstream_base):
                relative = _strip_query_keys(target[len(self.upstream_base):], self.auth_query)
                passed[location] = scrub.url(self.base_url + relative)
            else:
                del passed[location]
        return response.status_code, passed, scrub.text(response.content.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape")


def _strip_query_keys(url: str, keys: dict[str, str]) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in keys]
    return urlunsplit(parts._replace(query=urlencode(query)))


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, within a bound (see __exit__): a client that gave up must not leave the
    # exchange half-told, and a client that never finishes its request must not hold the proxy open.
    daemon_threads = True
    block_on_close = False
    handler_threads: list[threading.Thread] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        self.handler_threads = [t for t in self.handler_threads if t.is_alive()] + [thread]
        thread.start()


def _handler(forward: Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]],
             timeout_s: float) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = timeout_s  # a client that stops sending its request does not hold a thread forever

        def log_message(self, *args: Any) -> None:
            pass

        def _relay(self) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
            except (ValueError, OSError):
                self.close_connection = True
                return
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
