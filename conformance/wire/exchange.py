"""One HTTP exchange as the wire saw it, captured at the HTTP client so that every surface is judged on raw bytes.

The OpenAI SDKs parse (and forgive) what servers send; the suite validates what was actually sent.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.wire.scrub import Scrubber
from conformance.wire.transport import CrossOriginRequest, JudgingBudgetExceeded, judging_budget_problem, origin

MULTIPART_BOUNDARY = "conformance-multipart-boundary"

# The body an answer past the judging budget leaves in its exchange: the reason, never the answer.
NOT_JUDGED = "[not kept: "


def multipart_boundary(headers: dict[str, Any]) -> str | None:
    """The boundary of a multipart request, from its Content-Type (None for any other body)."""
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    value = value[0] if isinstance(value, list) and value else value
    if not str(value).lower().startswith("multipart/"):
        return None
    return next((p.split("=", 1)[1].strip().strip('"') for p in str(value).split(";")[1:]
                 if p.strip().lower().startswith("boundary=")), None)


def steady_multipart(headers: dict[str, str], body: str) -> tuple[dict[str, str], str]:
    """A multipart upload as kept in a result: the boundary each client draws at random (a new one per request)
    written as MULTIPART_BOUNDARY, in the header and the body alike, so that a replayed report is the recorded one.
    Nothing the server saw or answered changes; the cassette keeps the boundary that was sent."""
    boundary = multipart_boundary(headers)
    if not boundary:
        return headers, body
    steady = {k: v.replace(boundary, MULTIPART_BOUNDARY) if k.lower() == "content-type" else v
              for k, v in headers.items()}
    return steady, body.replace(boundary, MULTIPART_BOUNDARY)


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    error: str | None = None
    encoding_problem: str | None = None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def to_dict(self, limit: int = 8000) -> dict[str, Any]:
        """The exchange as a report shows it. Headers in name order: a live answer's header order is the server's,
        a replayed one's vcrpy's, and a recording's report must be its replay's."""
        data = asdict(self)
        for key in ("request_headers", "response_headers"):
            data[key] = dict(sorted(data[key].items()))
        for key in ("request_body", "response_body"):
            text = data[key]
            if len(text) > limit:
                data[key] = text[:limit] + f"... [{len(text) - limit} more characters in the cassette]"
        return data


class Capture:
    """httpx / httpx2 event hooks that keep a scrubbed copy of every exchange a client makes.

    Each response is paired with its own request (not with the latest one): the recording proxy serves clients
    from several threads at once. The response hook reads the whole body (bounded by the transport's limits)
    before the caller sees it; clients then iterate the buffered bytes, so SDK stream parsers work unchanged.
    ``allowed_origin`` (scheme, host, port) refuses requests anywhere else, such as a redirect to another host.
    """

    def __init__(self, scrubber: Scrubber, allowed_origin: tuple[str, str, int] | None = None) -> None:
        self.scrubber = scrubber
        self.allowed_origin = allowed_origin
        self.exchanges: list[Exchange] = []
        self._pending: dict[int, Exchange] = {}
        self._lock = threading.Lock()

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: Any) -> None:
        if self.allowed_origin is not None and origin(str(request.url)) != self.allowed_origin:
            where = "{}://{}:{}".format(*origin(str(request.url)))
            raise CrossOriginRequest(self.scrubber.text(
                f"refused to send a request to another origin ({where}): credentials never leave the target"))
        if not hasattr(request, "_content"):
            request.read()  # a multipart upload is a stream until read; read, it is sent from the same bytes
        body = request.content.decode("utf-8", "replace") if request.content else ""
        headers, body = steady_multipart(dict(request.headers), body)
        exchange = Exchange(
            method=request.method,
            url=self.scrubber.url(str(request.url)),
            request_headers=self.scrubber.headers(headers),
            request_body=self.scrubber.text(body),
        )
        with self._lock:
            self.exchanges.append(exchange)
            self._pending[id(request)] = exchange

    def on_response(self, response: Any) -> None:
        with self._lock:
            exchange = self._pending.pop(id(response.request), None)
        if exchange is None:
            return
        exchange.status = response.status_code
        exchange.response_headers = self.scrubber.headers({k.lower(): v for k, v in response.headers.items()})
        try:
            response.read()
        except Exception as exc:  # a stream cut mid-way: keep what is known, and let the client see the error
            exchange.error = self.scrubber.text(f"{type(exc).__name__}: {exc}")
            raise
        # The budget first, on the raw bytes: an answer past it is never decoded, scrubbed or handed to a client.
        over = judging_budget_problem(response.content, exchange.content_type)
        if over:  # no client and no check is handed an answer no real server sends
            exchange.error = over
            exchange.response_body = f"{NOT_JUDGED}{over}]"
            raise JudgingBudgetExceeded(over)
        text, problem = decode_body(response.content, exchange.content_type)
        exchange.response_body = self.scrubber.text(text)
        exchange.encoding_problem = problem

    def note_error(self, exc: BaseException) -> None:
        """Record a failure that happened before or instead of a response (timeout, refused connection)."""
        text = self.scrubber.text(f"{type(exc).__name__}: {exc}")
        with self._lock:
            for exchange in reversed(self.exchanges):
                if exchange.status is None and exchange.error is None:
                    exchange.error = text
                    break


def decode_body(content: bytes, content_type: str) -> tuple[str, str | None]:
    """The body as text, and what is wrong with its encoding: OpenAI sends UTF-8 JSON, and says so or says nothing."""
    charset = ""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    problem = None
    if charset and charset not in ("utf-8", "utf8"):
        problem = f"the Content-Type declares charset={charset}, not UTF-8"
    try:
        return content.decode("utf-8"), problem
    except UnicodeDecodeError as exc:
        return content.decode("utf-8", "replace"), (
            f"the body is not valid UTF-8 (byte {exc.start}: {content[exc.start:exc.start + 4]!r})")
