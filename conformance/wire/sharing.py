"""One live request per distinct request: the surfaces of a case share the server's answer.

The four surfaces send the same JSON body for a case; the server cannot answer them differently except by chance,
and what each surface adds is how *its client* reads the answer. So in a live run the first surface to send a
request (per case, per sample, per occurrence) sends it to the server, and every other surface whose request is
the same (method, path and query, JSON-equal body, the same credentials; headers that only name the client do not
count) gets that exchange's bytes. The answer is served below vcrpy and the capture, at the connection pool, so
each client reads it through exactly the code a live answer takes, and its cassette records it like any other;
the cassette's provenance says, per exchange, whether it was answered live or shared from which surface.

Answers are kept in memory only (a live body may hold what the scrubber has not seen yet) and only for the case
under way: the run hands every surface of a case to one process in a row (pytest-xdist's ``loadgroup``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance.wire.scrub import SECRET_HEADERS


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    surface: str


@dataclass
class Sharing:
    """A live run's shared answers (one object per run and process) and what each cassette's exchanges were."""

    answers: dict[tuple[Any, ...], Answer] = field(default_factory=dict)
    firsts: dict[tuple[Any, ...], tuple[str, Any]] = field(default_factory=dict)  # (case, sample, method, path)
    notes: dict[str, list[str]] = field(default_factory=dict)  # "surface/case" -> one note per exchange
    case: str | None = None
    live: int = 0  # requests this process sent to the server
    shared: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def context(self, case: str, sample: int, surface: str) -> ShareContext:
        with self._lock:
            if case != self.case:  # the surfaces of a case run in a row: the previous case's answers are done with
                self.answers.clear()
                self.firsts.clear()
                self.case = case
            self.notes[f"{surface}/{case}"] = [] if sample == 1 else self.notes.get(f"{surface}/{case}", [])
        return ShareContext(self, case, sample, surface)

    def notes_for(self, cassette_name: str) -> list[str]:
        return list(self.notes.get(cassette_name, []))


@dataclass
class ShareContext:
    """What one surface's sample of a case shares: its requests are counted so that the n-th identical request (a
    retry, a step sent again) meets the n-th answer."""

    sharing: Sharing
    case: str
    sample: int
    surface: str
    seen: Counter[tuple[Any, ...]] = field(default_factory=Counter)

    def key(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[Any, ...]:
        credentials = hashlib.sha256(b"\n".join(v for k, v in sorted(headers)
                                                 if k.lower().decode("latin-1") in SECRET_HEADERS))
        request = (method.upper(), target, credentials.hexdigest(), _canonical(body))
        with self.sharing._lock:
            self.seen[request] += 1
            occurrence = self.seen[request]
        return (self.case, self.sample, occurrence, *request)

    def lookup(self, key: tuple[Any, ...]) -> Answer | None:
        with self.sharing._lock:
            answer = self.sharing.answers.get(key)
            first = self.sharing.firsts.setdefault(key[:5], (self.surface, key[6]))
        note = self.sharing.notes.setdefault(f"{self.surface}/{self.case}", [])
        if answer is not None:
            self.sharing.shared += 1
            note.append(f"shared from {answer.surface}")
        else:
            self.sharing.live += 1
            differs = first[0] != self.surface and first[1] != key[6]
            note.append(f"live: the request differs from {first[0]}'s{_where(first[1], key[6])}" if differs
                        else "live")
        return answer

    def store(self, key: tuple[Any, ...], answer: Answer) -> None:
        with self.sharing._lock:
            self.sharing.answers.setdefault(key, answer)


def _canonical(body: bytes) -> Any:
    """A JSON body as a value that compares JSON-equal bodies equal (key order and spacing do not count)."""
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return hashlib.sha256(body).hexdigest()


def _where(first: Any, mine: Any) -> str:
    from conformance.api.chat.conversation import first_difference

    try:
        where, _, _ = first_difference(json.loads(first or "null"), json.loads(mine or "null"))
    except ValueError:
        return ""
    return f" at {where}" if where else ""


def summary(notes: list[str]) -> str | None:
    """One line for a result: "live", "shared from rest", or the mix a conversation had."""
    if not notes:
        return None
    counts = Counter(notes)
    if len(counts) == 1:
        return notes[0]
    return "; ".join(f"{n} x {note}" for note, n in counts.items())


class SharedPool:
    """A connection pool that answers from the run's shared answers when it can, and shares what it fetches."""

    def __init__(self, pool: Any, share: ShareContext, response_class: Any) -> None:
        self._pool = pool
        self._share = share
        self._response = response_class  # httpcore's (httpx) or httpcore2's (httpx2) Response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def handle_request(self, request: Any) -> Any:
        body = b"".join(request.stream)
        request.stream = [body]  # read once here; the pool below sends the same bytes
        url = request.url
        target = (url.target.decode("latin-1") if isinstance(url.target, bytes) else str(url.target))
        method = request.method.decode() if isinstance(request.method, bytes) else str(request.method)
        key = self._share.key(method, target, list(request.headers), body)
        answer = self._share.lookup(key)
        if answer is not None:
            return self._response(answer.status, headers=answer.headers, content=answer.body)
        response = self._pool.handle_request(request)
        response.stream = _Keeping(response.stream, lambda data: self._share.store(
            key, Answer(response.status, list(response.headers), data, self._share.surface)))
        return response


class _Keeping:
    """A response stream that hands on its bytes as they are read, and the whole body once it ended."""

    def __init__(self, stream: Any, done: Any) -> None:
        self._stream = stream
        self._done = done
        self._parts: list[bytes] = []

    def __iter__(self) -> Any:
        for piece in self._stream:
            self._parts.append(piece)
            yield piece
        self._done(b"".join(self._parts))

    def close(self) -> None:
        closer = getattr(self._stream, "close", None)
        if closer is not None:
            closer()
