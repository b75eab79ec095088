"""How every HTTP client of the suite talks to a target it does not control.

An exchange gets one total deadline (connect, any number of ``1xx`` interim answers, headers, and the whole body or
stream) and a cap on the body's size after decompression; both are enforced below vcrpy, on the connection
itself, so that neither recording nor the clients can be made to wait forever or to hold gigabytes. Compressed
bodies are decoded here, incrementally and within the cap (vcrpy would otherwise inflate a gzip bomb whole).
Requests may only go to the target's own origin: a redirect elsewhere is refused before anything is sent.
"""

from __future__ import annotations

import enum
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from conformance.model.errors import ConformanceError


class FailureKind(enum.StrEnum):
    """What kind of failure ended an exchange without a usable answer (a result says which)."""

    NOT_RECORDED = "not_recorded"  # a replay found no recorded exchange matching the request
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    REDIRECT = "redirect"
    CONNECTION = "connection"  # the transport failed: refused, reset, a body that does not decode
    SURFACE = "surface"  # the client program itself failed
    SDK = "sdk"


class TransportFailure(ConformanceError):
    """The one root of the suite's own transport failures: each subclass says its kind."""

    kind: FailureKind = FailureKind.CONNECTION


class ExchangeDeadline(TransportFailure):
    """The exchange as a whole took longer than allowed (however steadily bytes were trickling in)."""

    kind = FailureKind.TIMEOUT


class BodyTooLarge(TransportFailure):
    """The response body (after decompression) grew past the cap."""

    kind = FailureKind.TOO_LARGE


class CrossOriginRequest(TransportFailure):
    """A request (usually a followed redirect) aimed at another origin than the target's: never sent."""

    kind = FailureKind.REDIRECT


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle for every client costs more than replaying a case."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


class Limits:
    """The bounds of one exchange: seconds in all, and bytes of decoded body."""

    def __init__(self, timeout_s: float, max_body_bytes: int) -> None:
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes


def bound(transport: Any, limits: Limits) -> Any:
    """Put ``limits`` under an httpx (or httpx2) ``HTTPTransport``: wrap its connection pool, keep the class.

    vcrpy patches ``HTTPTransport.handle_request``; wrapping the pool below it means recording sees only what the
    limits let through, and replay (which never reaches the pool) is unaffected.
    """
    transport._pool = _BoundedPool(transport._pool, limits)
    return transport


class _Watchdog:
    """Shuts the connection's socket once the deadline passes, which ends any blocking read at once."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with self._lock:
                    self._sockets.append(sock)
                    if self.expired:
                        self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def check(self) -> None:
        if self.expired or time.monotonic() > self.deadline:
            self.expired = True
            raise ExchangeDeadline(f"the exchange did not end within {self.seconds:g} s")

    def cancel(self) -> None:
        self._timer.cancel()


class _BoundedPool:
    def __init__(self, pool: Any, limits: Limits) -> None:
        self._pool = pool
        self._limits = limits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def handle_request(self, request: Any) -> Any:
        watchdog = _Watchdog(self._limits.timeout_s)
        previous = request.extensions.get("trace")

        def trace(name: str, info: dict[str, Any]) -> None:
            watchdog.trace(name, info)
            if previous is not None:
                previous(name, info)

        request.extensions = {**request.extensions, "trace": trace}
        try:
            response = self._pool.handle_request(request)
        except Exception as exc:
            watchdog.cancel()
            if watchdog.expired:
                raise ExchangeDeadline(f"the exchange did not end within {watchdog.seconds:g} s") from exc
            raise
        encoding = _header(response.headers, b"content-encoding").lower().strip()
        try:
            decoder = _decoder(encoding)
        except ResponseDecodingError:
            response.close()
            raise
        if decoder is not None:
            response.headers = [(k, v) for k, v in response.headers
                                if k.lower() not in (b"content-encoding", b"content-length")]
        response.stream = _BoundedStream(response.stream, watchdog, self._limits.max_body_bytes, decoder, encoding)
        return response


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


_CODINGS = {"gzip": lambda: zlib.decompressobj(zlib.MAX_WBITS | 16), "x-gzip": lambda: zlib.decompressobj(
    zlib.MAX_WBITS | 16), "deflate": zlib.decompressobj}


def _decoder(encoding: str) -> list[Any] | None:
    """Decoders for the whole chain of codings (``gzip, gzip``: applied in order, undone in reverse), each stage
    bounded like a single one; ``identity`` is none; a coding the suite does not know is a decoding error (the
    body cannot be judged), never a body taken as it is."""
    names = [name.strip() for name in encoding.split(",") if name.strip() and name.strip() != "identity"]
    unknown = [name for name in names if name not in _CODINGS]
    if unknown:
        raise ResponseDecodingError(f"DecodingError: unknown content coding {unknown[0]!r} "
                                    f"(Content-Encoding: {encoding[:60]})")
    return [_CODINGS[name]() for name in reversed(names)] or None


class _BoundedStream:
    # A decoded piece is at most this large, so a small compressed chunk cannot inflate into gigabytes at once.
    PIECE = 1 << 20

    def __init__(self, stream: Any, watchdog: _Watchdog, cap: int, decoder: Any, encoding: str) -> None:
        self._stream = stream
        self._watchdog = watchdog
        self._cap = cap
        self._decoder = decoder
        self._encoding = encoding
        self._size = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for raw in self._stream:
                self._watchdog.check()
                for piece in self._decode(raw):
                    self._size += len(piece)
                    if self._size > self._cap:
                        raise BodyTooLarge(f"the response body exceeded {megabytes(self._cap)}")
                    yield piece
            self._watchdog.check()
            if self._decoder is not None:
                yield from self._flush()
        except (ExchangeDeadline, BodyTooLarge):
            raise
        except Exception as exc:
            if self._watchdog.expired:
                raise ExchangeDeadline(f"the exchange did not end within {self._watchdog.seconds:g} s") from exc
            raise
        finally:
            self._watchdog.cancel()

    def _decode(self, raw: bytes) -> Iterator[bytes]:
        if self._decoder is None:
            yield raw
            return
        yield from self._through(0, raw)

    def _through(self, stage: int, data: bytes) -> Iterator[bytes]:
        """``data`` through decoding stages ``stage`` onwards, no stage producing more than a piece at once."""
        if stage == len(self._decoder):
            if data:
                yield data
            return
        decoder = self._decoder[stage]
        while data:
            try:
                piece = decoder.decompress(data, self.PIECE)
            except zlib.error as exc:
                raise _decoding_error(f"DecodingError: the {self._encoding} body does not decode ({exc})") from None
            if piece:
                yield from self._through(stage + 1, piece)
            data = decoder.unconsumed_tail
            if not piece and not data:
                break

    def _flush(self) -> Iterator[bytes]:
        for stage, decoder in enumerate(self._decoder):
            try:
                while decoder.unconsumed_tail:
                    piece = decoder.decompress(decoder.unconsumed_tail, self.PIECE)
                    if not piece:
                        break
                    yield from self._counted(self._through(stage + 1, piece))
                rest = decoder.flush()
            except zlib.error as exc:
                raise _decoding_error(f"DecodingError: the {self._encoding} body does not decode ({exc})") from None
            if rest:
                yield from self._counted(self._through(stage + 1, rest))

    def _counted(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self._size += len(piece)
            if self._size > self._cap:
                raise BodyTooLarge(f"the response body exceeded {megabytes(self._cap)}")
            yield piece

    def close(self) -> None:
        self._watchdog.cancel()
        closer = getattr(self._stream, "close", None)
        if closer is not None:
            closer()


class JudgingBudgetExceeded(TransportFailure):
    """The answer fits the byte cap but has more parts than any real answer (choices, stream events, tool calls):
    judging it would take minutes and gigabytes, so it is not judged."""

    kind = FailureKind.TOO_LARGE


# Past these counts an answer is not judged (an ERROR saying which budget). Counted on the raw text, before any
# client parses it, so that no SDK builds millions of objects either. The count is of the thing itself, whatever
# its spelling: every JSON value (object, array, member, element: its '{', '[', ',' and ':' outside strings), so
# that choices without "index", an escaped "\u0069ndex", tool calls, embedding floats, keys and output-file lines
# all count, in a body or in a stream, in one event or in many. The largest legal answer the catalogue's requests
# can draw (a few embeddings of 3,072 floats, n up to 128, a long stream) holds well under a tenth of it.
MAX_JSON_VALUES = 500_000
MAX_STREAM_EVENTS = 250_000
# And past this size, whatever it holds: judging an answer keeps a few copies of it (the bytes the transport, the
# recording and the sharing each hold, its text, its parsed events, what a client assembles), so that a 60 MB answer
# of few values (12,000 deltas of 5 KB each) took 525-586 MB and, in the Python SDK's accumulator, 2.4 minutes.
# 20 MB keeps every run under 300 MB; the largest answer a real model gives (128,000 output tokens, streamed) is
# about 30 MB of chunks and is refused by the value budget first.
MAX_JUDGED_BYTES = 20_000_000
# A JSON string, escapes included (the unrolled form: linear, no backtracking), for text and for raw bytes.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_STRING_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# The rest of a string whose opening quote came before (its content, then its closing quote).
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"')
_STRING_REST_BYTES = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"')


# What a cassette holds instead of a body past the judging budget (it is neither judged nor kept).
NOT_KEPT_MARKER = "[openai-conformance: body not kept: "


_CHUNK = 1 << 20


def json_values(text: str | bytes, at_least: int = 0) -> int:
    """How many JSON values ``text`` holds, near enough for a budget: each value's opening or separating character
    outside strings. Works on one JSON body, JSON Lines and an SSE stream alike, on text or raw bytes. The count
    with strings included is an upper bound found without a copy; only past ``at_least`` are the strings blanked
    for the exact figure, a megabyte at a time (a string cut by a chunk's end is carried into the next), so that
    no copy of the whole answer, nor one object per string, is ever made."""
    marks: tuple[Any, ...] = ("{", "[", ",", ":") if isinstance(text, str) else (b"{", b"[", b",", b":")
    upper = sum(text.count(c) for c in marks) + 1
    if upper <= at_least:
        return upper
    binary = isinstance(text, bytes)
    pattern: Any = _JSON_STRING_BYTES if binary else _JSON_STRING
    rest_of_string: Any = _STRING_REST_BYTES if binary else _STRING_REST
    # One code path for text and bytes: the pieces are typed Any because each is str or bytes with its text.
    zero: Any
    quote: Any
    backslash: Any
    zero, quote, backslash = (b"0", b'"', b"\\") if binary else ("0", '"', "\\")
    carry: Any = text[:0]
    total, in_string = 1, False
    for start in range(0, len(text), _CHUNK):
        chunk = carry + text[start:start + _CHUNK]
        carry, pos = text[:0], 0
        if in_string:  # inside a string a previous chunk opened: its end, if it is in this chunk
            end = rest_of_string.match(chunk)
            if end is None:
                trailing = len(chunk) - len(chunk.rstrip(backslash))
                carry = backslash if trailing % 2 else text[:0]  # an escape cut in two: its backslash goes on
                continue
            pos, in_string = end.end(), False
        blanked = pattern.sub(zero, chunk[pos:])
        cut = blanked.find(quote)  # a string that goes on past this chunk (any quote after it is escaped)
        total += sum(blanked.count(c, 0, len(blanked) if cut < 0 else cut) for c in marks)
        if cut >= 0:
            in_string = True
            trailing = len(chunk) - len(chunk.rstrip(backslash))
            carry = backslash if trailing % 2 else text[:0]
    return total


def judging_budget_problem(text: str | bytes, content_type: str) -> str | None:
    """Why an answer is past the judging budget, or None. Linear, at C speed: counts, and a regex pass only for an
    answer that may be over. Takes the raw bytes, so that an answer over it is refused before it is decoded."""
    marker = NOT_KEPT_MARKER if isinstance(text, str) else NOT_KEPT_MARKER.encode()
    if text.startswith(marker):  # type: ignore[arg-type]  # a recorded answer that was past it: the same reason
        rest = text[len(marker):]
        return (rest if isinstance(rest, str) else rest.decode("utf-8", "replace")).removesuffix("]")
    if isinstance(text, bytes):
        starts: tuple[Any, ...] = (b"data:", b":", b"event:")
        lines: tuple[Any, ...] = (b"\ndata:", b"\rdata:")
    else:
        starts, lines = ("data:", ":", "event:"), ("\ndata:", "\rdata:")
    if len(text) > MAX_JUDGED_BYTES:
        return (f"the answer is {len(text) / 1e6:.1f} MB, past the judging budget of {MAX_JUDGED_BYTES // 1_000_000} "
                "MB")
    if "event-stream" in content_type or text.startswith(starts):
        events = sum(text.count(m) for m in lines) + text.startswith(starts[0])
        if events > MAX_STREAM_EVENTS:
            return f"the stream has {events} events, past the judging budget of {MAX_STREAM_EVENTS}"
    values = json_values(text, at_least=MAX_JSON_VALUES)
    if values > MAX_JSON_VALUES:
        return (f"the answer holds about {values} JSON values (objects, arrays, members, elements), past the judging "
                f"budget of {MAX_JSON_VALUES}")
    return None


class ResponseDecodingError(TransportFailure):
    """A compressed body that does not decompress, or a coding the suite does not know."""

    kind = FailureKind.CONNECTION


def _decoding_error(message: str) -> Exception:
    return ResponseDecodingError(message)


def new_client(kind: str, limits: Limits, hooks: dict[str, list[Any]], *, follow_redirects: bool = False,
               share: Any = None) -> Any:
    """An httpx (``kind="httpx"``) or httpx2 (the OpenAI SDK's own) client with the suite's bounds and hooks.

    The SDK surface follows redirects as the SDK does by default; curl and raw REST do not. Either way the
    capture's request hook refuses any request to another origin.
    """
    module: Any
    if kind == "httpx2":
        import httpx2 as module
    else:
        import httpx as module
    transport = bound(module.HTTPTransport(verify=tls_context()), limits)
    if share is not None:  # a live run: answers the case's other surfaces already had are shared (sharing.py)
        from conformance.wire.sharing import SharedPool

        core = __import__("httpcore2" if kind == "httpx2" else "httpcore")
        transport._pool = SharedPool(transport._pool, share, core.Response)
    return module.Client(transport=transport, event_hooks=hooks, timeout=limits.timeout_s,
                         follow_redirects=follow_redirects)


def classify_exception(exc: BaseException) -> tuple[FailureKind, str]:
    """(kind, one-line message) for an exception raised while talking to the target.

    Kinds: ``not_recorded`` (replay found no matching exchange), ``timeout``, ``too_large``, ``redirect``,
    ``connection`` (the transport failed) and ``surface`` (the client itself raised). The deepest cause in the
    chain says most: an SDK's "Connection error." wraps the transport's own words.
    """
    from vcr.errors import CannotOverwriteExistingCassetteException

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(item, CannotOverwriteExistingCassetteException) for item in chain):
        return FailureKind.NOT_RECORDED, "the cassette has no recorded exchange matching this request"
    for item in chain:
        if isinstance(item, TransportFailure):
            return item.kind, _first_line(item)
    timeouts, transport_errors = _typed_errors()
    for item in reversed(chain):
        if isinstance(item, timeouts):
            return FailureKind.TIMEOUT, f"timed out ({type(item).__name__})"
    for item in reversed(chain):
        if isinstance(item, transport_errors):
            return FailureKind.CONNECTION, f"{type(item).__name__}: {_first_line(item) or 'connection failed'}"
    return FailureKind.SURFACE, f"{type(exc).__name__}: {_first_line(exc)}"[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


@cache
def _typed_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    import httpx
    import httpx2

    timeouts = (httpx.TimeoutException, httpx2.TimeoutException, TimeoutError, socket.timeout)
    transport_errors = (httpx.TransportError, httpx2.TransportError, httpx.DecodingError, httpx2.DecodingError,
                        ConnectionError, OSError)
    return timeouts, transport_errors
