"""One HTTP exchange as the wire saw it, captured at the HTTP client so that every surface is judged on raw bytes.

The OpenAI SDKs parse (and forgive) what servers send; the suite validates what was actually sent.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.scrub import Scrubber


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
    elapsed_s: float = 0.0

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    def to_dict(self, limit: int = 8000) -> dict[str, Any]:
        data = asdict(self)
        for key in ("request_body", "response_body"):
            text = data[key]
            if len(text) > limit:
                data[key] = text[:limit] + f"... [{len(text) - limit} more characters in the cassette]"
        return data


class Capture:
    """httpx / httpx2 event hooks that keep a scrubbed copy of every exchange a client makes.

    The response hook reads the whole body before the caller sees it; clients then iterate the buffered bytes,
    so SDK stream parsers work unchanged.
    """

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber
        self.exchanges: list[Exchange] = []
        self._started: dict[int, float] = {}

    @property
    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: Any) -> None:
        body = request.content.decode("utf-8", "replace") if request.content else ""
        self.exchanges.append(
            Exchange(
                method=request.method,
                url=self.scrubber.url(str(request.url)),
                request_headers=self.scrubber.headers(dict(request.headers)),
                request_body=self.scrubber.text(body),
            )
        )
        self._started[id(request)] = time.perf_counter()

    def on_response(self, response: Any) -> None:
        exchange = self.exchanges[-1] if self.exchanges else None
        if exchange is None:
            return
        exchange.status = response.status_code
        exchange.response_headers = self.scrubber.headers({k.lower(): v for k, v in response.headers.items()})
        try:
            response.read()
        except Exception as exc:  # a stream cut mid-way: keep what is known, and let the client see the error
            exchange.error = self.scrubber.text(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            started = self._started.pop(id(response.request), None)
            if started is not None:
                exchange.elapsed_s = round(time.perf_counter() - started, 4)
        exchange.response_body = self.scrubber.text(response.content.decode("utf-8", "replace"))

    def note_error(self, exc: BaseException) -> None:
        """Record a failure that happened before or instead of a response (timeout, refused connection)."""
        text = self.scrubber.text(f"{type(exc).__name__}: {exc}")
        if self.exchanges and self.exchanges[-1].status is None and self.exchanges[-1].error is None:
            self.exchanges[-1].error = text
