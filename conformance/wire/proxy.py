"""A loopback recording proxy: any HTTP client (the Node SDK, curl, ...) is pointed at it as its base URL.

It forwards each request to the target with httpx, through the same capture, cassette layer (vcrpy patches
httpx in this process), scrubbing and matching as the Python surfaces, so every client is recorded and replayed
alike. Clients never hold the real key: the proxy adds the target's credentials itself.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from conformance.run.options import DEFAULT_MAX_BODY_MB
from conformance.wire.exchange import Capture
from conformance.wire.scrub import SECRET_HEADERS, SECRET_QUERY_PARAMETERS, scrub_split_stream
from conformance.wire.transport import FailureKind, Limits, classify_exception, new_client, origin

# What clients send as their key: the proxy replaces it with the target's own credentials.
CLIENT_KEY = "conformance-proxy-client"
# Headers that belong to one connection (RFC 9110 section 7.6.1) or that the transport sets itself.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host",
                        "accept-encoding", "te", "trailer", "upgrade", "proxy-connection"})
# Not forwarded either way: those, and the client's credentials (the proxy adds the target's own).
NOT_FORWARDED = HOP_BY_HOP | SECRET_HEADERS


class RecordingProxy:
    """``with RecordingProxy(upstream_base, auth_headers, auth_query, capture) as proxy: proxy.base_url``.

    Without a port, the proxy is a route (``/<token>/v1/``) on one listener shared by the whole process: a run
    of hundreds of cases does not start and stop a server for each (that cost ~7 ms a case), and a request
    that arrives for a case already over is refused rather than filed under the next one. With a port
    (``conformance proxy``), it has a listener of its own whose root is the route.
    """

    def __init__(self, upstream_base: str, auth_headers: dict[str, str], auth_query: dict[str, str],
                 capture: Capture, timeout_s: float = 60.0, port: int | None = None,
                 max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1_000_000), share: Any = None) -> None:
        self.share = share
        self.upstream_base = upstream_base.rstrip("/") + "/"
        self.auth_headers = auth_headers
        self.auth_query = auth_query
        self.capture = capture
        self.timeout_s = timeout_s
        self.limits = Limits(timeout_s, max_body_bytes)
        self.failures: list[tuple[FailureKind, str]] = []  # (kind, message) of requests that got no upstream answer
        self._own = _Listener(port, timeout_s) if port is not None else None
        # The route is a secret of the URL the proxy hands out: another local process that finds the port does not
        # get answers with the key added (the standalone proxy prints it, the surfaces pass it to their client).
        self._token = secrets.token_urlsafe(18) if self._own is not None else secrets.token_hex(8)
        self._listener: _Listener | None = None
        self._active = 0
        self._idle = threading.Condition()

    @property
    def base_url(self) -> str:
        assert self._listener is not None, "base_url is known once the proxy is entered"
        return f"http://127.0.0.1:{self._listener.port}/{self._token}/v1/"

    def __enter__(self) -> RecordingProxy:
        self._listener = self._own.start() if self._own is not None else _shared_listener()
        self._listener.add(self._token, self)
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop within a bound whatever the clients do: exchanges under way get until one exchange's deadline to
        be told whole; a request that arrives later is refused."""
        assert self._listener is not None
        self._listener.remove(self._token)
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout=self.timeout_s + 5)
        if self._own is not None:
            self._own.stop()

    def _begin(self) -> None:
        with self._idle:
            self._active += 1

    def _end(self) -> None:
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str],
                                                                                              bytes]:
        requested, _, query = path.partition("?")
        endpoint = confined(requested)
        if endpoint is None:
            return _refusal(400, "bad_path", "the path leaves the target's base URL ('..'): not forwarded")
        outgoing = {k: v for k, v in headers.items() if k.lower() not in NOT_FORWARDED}
        outgoing.update(self.auth_headers)
        # The client's own query string goes on (without anything named like the key), the target's key after it.
        params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                  if k not in self.auth_query and k.lower() not in SECRET_QUERY_PARAMETERS]
        params += list(self.auth_query.items())
        try:
            with new_client("httpx", self.limits, self.capture.hooks, share=self.share) as client:
                response = client.request(method, self.upstream_base + endpoint, content=body, headers=outgoing,
                                          params=params)
        except Exception as exc:
            self.capture.note_error(exc)
            kind, message = classify_exception(exc)
            self.failures.append((kind, self.capture.scrubber.text(message)))
            payload = {"error": {"message": f"conformance proxy: {self.failures[-1][1]}", "type": "proxy_error",
                                 "param": None, "code": kind}}
            return 599, {"content-type": "application/json"}, json.dumps(payload).encode()
        scrub = self.capture.scrubber
        passed = {scrub.text(k): scrub.text(v) for k, v in response.headers.items() if k.lower() not in NOT_FORWARDED}
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
        # The key the server echoes (whole, encoded, or split across stream deltas) never reaches the client.
        text = scrub_split_stream(scrub.text(response.content.decode("utf-8", "surrogateescape")), scrub)
        return response.status_code, passed, text.encode("utf-8", "surrogateescape")


def confined(path: str) -> str | None:
    """The endpoint below the base URL for a request path (``/v1/chat/completions`` -> ``chat/completions``), or
    None when it would leave the base URL: a ``..`` segment, raw or percent-encoded, is refused, never resolved."""
    from urllib.parse import unquote

    decoded = unquote(unquote(path))
    segments = decoded.replace("\\", "/").split("/")
    if any(segment in ("..", ".") for segment in segments):
        return None
    return path.removeprefix("/v1/").lstrip("/")


def _refusal(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    payload = {"error": {"message": f"conformance proxy: {message}", "type": "proxy_error", "param": None,
                         "code": code}}
    return status, {"content-type": "application/json"}, json.dumps(payload).encode()


# The Host names a loopback proxy answers to: a page in a browser that resolves its own name to 127.0.0.1 (DNS
# rebinding) sends its own Host, and is refused.
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
MAX_REQUEST_BYTES = 64_000_000


def loopback_host(host: str | None) -> bool:
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in _LOOPBACK_HOSTS or host.lower() in _LOOPBACK_HOSTS


def _strip_query_keys(url: str, keys: dict[str, str]) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in keys]
    return urlunsplit(parts._replace(query=urlencode(query)))


class _Listener:
    """A loopback HTTP server dispatching each request by its first path segment to a registered proxy."""

    def __init__(self, port: int = 0, read_timeout_s: float = 60.0) -> None:
        self.read_timeout_s = read_timeout_s
        self._routes: dict[str, RecordingProxy] = {}
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.listener = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="conformance-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> _Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def add(self, token: str, proxy: RecordingProxy) -> None:
        with self._lock:
            self._routes[token] = proxy
            self.read_timeout_s = max(self.read_timeout_s, proxy.timeout_s)

    def routes(self, path: str) -> bool:
        """Whether ``path`` belongs to a proxy that is being served (its secret route token)."""
        with self._lock:
            return path.lstrip("/").partition("/")[0] in self._routes

    def remove(self, token: str) -> None:
        with self._lock:
            self._routes.pop(token, None)

    @contextlib.contextmanager
    def serving(self, path: str) -> Iterator[tuple[RecordingProxy | None, str]]:
        """The proxy a request path belongs to, and the path as that proxy sees it (``/v1/...``), counted as under
        way until the answer is written: the lookup and the count happen together, so a proxy that is being
        closed either waits for this exchange or never sees it."""
        with self._lock:
            token, _, rest = path.lstrip("/").partition("/")
            proxy, path = self._routes.get(token), "/" + rest
            if proxy is not None:
                proxy._begin()
        try:
            yield proxy, path
        finally:
            if proxy is not None:
                proxy._end()


_shared: _Listener | None = None
_shared_lock = threading.Lock()


def _shared_listener() -> _Listener:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = _Listener().start()
        return _shared


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a client that never finishes its request must not hold the listener open
    listener: _Listener


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.listener.read_timeout_s  # type: ignore[misc]  # a client that stops sending does not hold a thread
        super().setup()

    def log_message(self, *args: Any) -> None:
        pass

    def _relay(self) -> None:
        if not loopback_host(self.headers.get("host")):
            self._answer(*_refusal(421, "bad_host", "this proxy answers loopback names only (127.0.0.1, localhost)"))
            return
        if not self.server.listener.routes(self.path):  # before any byte of the body is read
            gone = {"error": {"message": "conformance proxy: no case is served at this address (it is over)",
                              "type": "proxy_error", "param": None, "code": "no_such_route"}}
            self._answer(404, {"content-type": "application/json"}, json.dumps(gone).encode())
            return
        try:
            body = self._body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if body is None:
            self._answer(*_refusal(413, "too_large", f"a request body over {MAX_REQUEST_BYTES} bytes"))
            return
        with self.server.listener.serving(self.path) as (proxy, path):
            if proxy is None:
                gone = {"error": {"message": "conformance proxy: no case is served at this address (it is over)",
                                  "type": "proxy_error", "param": None, "code": "no_such_route"}}
                self._answer(404, {"content-type": "application/json"}, json.dumps(gone).encode())
                return
            self._answer(*proxy.forward(self.command, path, dict(self.headers.items()), body))

    def _body(self) -> bytes | None:
        """The request body, whole: by Content-Length, or chunk by chunk (Transfer-Encoding: chunked)."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            parts: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                size_field = line.split(b";", 1)[0].strip() or b"0"
                if not re.fullmatch(rb"[0-9a-fA-F]{1,16}", size_field):  # no sign, no space: a size, or nothing
                    raise ValueError("a chunk size that is not a hexadecimal number")
                chunk = int(size_field, 16)
                if chunk == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(parts)
                size += chunk
                if size > MAX_REQUEST_BYTES:
                    return None
                parts.append(self.rfile.read(chunk))
                self.rfile.readline(8)  # the CRLF after each chunk
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.send_header("connection", "close")  # one request per connection
        self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up

    do_GET = do_POST = do_DELETE = _relay
