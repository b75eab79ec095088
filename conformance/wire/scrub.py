"""Secret scrubbing: the API key never reaches a cassette, a report, a log line or the terminal, in any form.

A hostile server can hand the key back encoded (percent-encoding, base64 at any byte alignment, hex, JSON ``\\u``
escapes, or a mix), in a header name, a reason phrase, a redirect URL, or split across stream events that a check
later joins. So the scrubber knows every encoded form of the key in use, and it is applied both to raw bytes
before they are written and to every decoded value on its way to a sink (``deep``). The scrubbed text says where
a secret was (``REDACTED``), so a reader still sees that a key was sent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset({"authorization", "x-goog-api-key", "api-key", "x-api-key", "proxy-authorization"})
SECRET_QUERY_PARAMETERS = frozenset({"key", "api_key", "api-key"})
MIN_SECRET_LENGTH = 4
# A piece of the key this long (or half the key, when that is shorter, but never under MIN_FRAGMENT_LENGTH) is
# redacted wherever it appears: a key split across two fields (an id and a fingerprint), or cut by a server, leaves
# no part that long. The floor keeps a short key's pieces from matching inside ordinary numbers and ids (a 5-digit
# run of a 10-character key turned up inside a log-probability).
FRAGMENT_LENGTH = 12
MIN_FRAGMENT_LENGTH = 8

# What a leaked key of a well-known provider looks like: for cassettes recorded elsewhere, whose key is unknown.
# Each shape with the literal it starts with: a substring test rules most of them out at C speed, where one
# alternation would be tried at every position of a whole cassette.
_KEY_SHAPES = tuple((literal, re.compile(pattern)) for literal, pattern in (
    ("AIza", r"AIza[0-9A-Za-z_-]{20,}"), ("sk-", r"sk-[A-Za-z0-9_-]{20,}"), ("Bearer ", r"Bearer [A-Za-z0-9._-]{16,}"),
    ("ya29.", r"ya29\.[0-9A-Za-z_-]{20,}"),  # a Google Cloud OAuth access token (Vertex AI)
    ("key=", r"[?&]key=[A-Za-z0-9_-]{16,}")))
KEY_PATTERN = re.compile("|".join(shape.pattern for _, shape in _KEY_SHAPES))  # all of them, as one pattern


def _char_forms(char: str) -> str:
    """A regex for one character of the key written literally, percent-encoded or as a JSON ``\\u`` escape."""
    code = ord(char)
    forms = [re.escape(char)]
    if code < 0x100:
        forms.append(f"%{code:02x}")
    forms.append(f"\\\\u{code:04x}")
    if char == "/":
        forms.append(r"\\/")
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 characters fully determined by the secret, at each of the three byte alignments it can have."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret + b"\0\0\0").decode()
        start, end = -(-8 * shift // 6), (8 * shift + 8 * len(secret)) // 6
        core = encoded[start:end]
        if len(core) >= MIN_SECRET_LENGTH:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


def fragment_length(secret: str) -> int:
    return max(MIN_FRAGMENT_LENGTH, min(FRAGMENT_LENGTH, len(secret) // 2))


def fragments(secret: str) -> list[str]:
    """Every run of ``fragment_length`` consecutive characters of the key."""
    size = fragment_length(secret)
    return sorted({secret[i:i + size] for i in range(len(secret) - size + 1)}) if len(secret) > size else []


def fragment_pattern(secret: str) -> str:
    """A regex for any run of the key's characters at least ``fragment_length`` long, taken whole (greedy)."""
    size = fragment_length(secret)
    forms = []
    for start in range(len(secret) - size + 1):
        rest = secret[start + size:]
        tail = "".join(f"(?:{re.escape(c)}" for c in rest) + ")?" * len(rest)
        forms.append(re.escape(secret[start:start + size]) + tail)
    return "|".join(forms)


def secret_pattern(secret: str) -> str:
    """One regex (to compile case-insensitively) that finds ``secret`` in every encoding the scrubber knows."""
    raw = secret.encode("utf-8")
    mixed = "".join(_char_forms(c) for c in secret)
    forms = [mixed, binascii.hexlify(raw).decode()]
    forms += [re.escape(core) for core in sorted(_base64_cores(raw), key=len, reverse=True)]
    return "|".join(f"(?:{f})" for f in forms)


_WINDOW = 1 << 20  # characters a may-hold test lowers at a time


class Scrubber:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so that a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        if self.secrets:
            literal = "|".join([*(f"(?:{secret_pattern(s)})" for s in self.secrets),
                                *(f"(?:{fragment_pattern(s)})" for s in self.secrets if fragments(s))])
            self._pattern: re.Pattern[str] | None = re.compile(literal, re.IGNORECASE)
            # base64 is case-sensitive: the case-insensitive pattern above over-matches only in the key's favour.
        else:
            self._pattern = None
        # Cheap tests that must pass before the full pattern runs (it tries many forms at every position).
        self._plain = [s.lower() for s in self.secrets]
        self._literals = [*self._plain, *(f.lower() for s in self.secrets for f in fragments(s)),
                          *(binascii.hexlify(s.encode()).decode() for s in self.secrets),
                          *(core.lower() for s in self.secrets for core in _base64_cores(s.encode()))]
        # The escaped forms of the keys' own characters only, so that text full of other escapes stays fast.
        self._escaped = {form: char.lower() for secret in self.secrets for char in set(secret)
                         for form in (f"%{ord(char):02x}", f"\\u{ord(char):04x}", *(["\\/"] if char == "/" else []))
                         if ord(char) < 0x10000}
        # The longest text a key can take: six characters (``\\uXXXX``) for each of its own, and room to spare.
        self.overlap = 8 * max((len(secret) for secret in self.secrets), default=0) + 64
        self._escapes = re.compile("|".join(re.escape(f) for f in sorted(self._escaped, key=len, reverse=True))) \
            if self._escaped else None

    def _may_hold(self, value: str) -> bool:
        """Whether ``value`` may hold a key in some encoding: the cheap test before the full pattern. A long value
        is tested a megabyte at a time, each window overlapping the last by more than the longest form of a key
        (every character escaped as ``\\uXXXX``), so no copy of a 60 MB answer is made to lower its case."""
        step = _WINDOW
        if len(value) <= step + self.overlap:
            return self._window_may_hold(value)
        return any(self._window_may_hold(value[start:start + step + self.overlap])
                   for start in range(0, len(value), step))

    def _window_may_hold(self, value: str) -> bool:
        low = value.lower()
        if any(literal in low for literal in self._literals):
            return True
        if self._escapes is not None and ("%" in low or "\\u" in low or "\\/" in low):
            unescaped = self._escapes.sub(lambda m: self._escaped[m.group(0)], low)
            return any(plain in unescaped for plain in self._plain)
        return False

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def text(self, value: str) -> str:
        if self._pattern is None or not value or not self._may_hold(value):
            return value
        return self._pattern.sub(REDACTED, value)

    def find(self, value: str) -> str | None:
        """Where the key (in any encoding) first shows up in ``value``, described without the key itself."""
        if self._pattern is None or not self._may_hold(value):
            return None
        match = self._pattern.search(value)
        return None if match is None else f"the key in use, at character {match.start()}"

    def spans(self, value: str) -> list[tuple[int, int]]:
        """Where the key (in any encoding) sits in ``value``: (start, end) pairs."""
        if self._pattern is None or not self._may_hold(value):
            return []
        return [m.span() for m in self._pattern.finditer(value)]

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {self.text(k): (REDACTED if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()}

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.query:
            query = [(k, REDACTED if k.lower() in SECRET_QUERY_PARAMETERS else v)
                     for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            parts = parts._replace(query=urlencode(query, safe=REDACTED))
        return self.text(urlunsplit(parts))

    def deep(self, value: Any) -> Any:
        """Every string (and every key) of a JSON-like value scrubbed: for decoded values on their way to a sink."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.deep(k) if isinstance(k, str) else k: self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value


def looks_like_key(text: str, scrubber: Scrubber | None = None) -> str | None:
    """What key-like string ``text`` holds (abbreviated, or described), or None.

    The key in use is looked for in every encoding; a well-known provider's key shape is looked for too, for
    cassettes that came from elsewhere.
    """
    if scrubber is not None:
        found = scrubber.find(text)
        if found:
            return found
    matches = [m for literal, shape in _KEY_SHAPES if literal in text and (m := shape.search(text)) is not None]
    first = min(matches, key=lambda m: m.start(), default=None)  # what KEY_PATTERN.search(text) would find
    return None if first is None else first.group(0)[:8] + "..."


def _joined_pieces(chunk: Any) -> Iterator[tuple[tuple[Any, ...], list[Any], str]]:
    """(field, path in the chunk, piece) for each piece of text a client joins across a chat stream's deltas: the
    texts, each call's arguments and (as the Python SDK does) its name, and the deprecated function_call's."""
    for position, choice in enumerate(chunk.get("choices") or [] if isinstance(chunk, dict) else []):
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        index = choice.get("index", position)
        for key in ("content", "refusal", "reasoning_content", "reasoning"):
            if isinstance(delta.get(key), str):
                yield (index, key), ["choices", position, "delta", key], delta[key]
        legacy = delta.get("function_call")
        for part in ("name", "arguments"):
            if isinstance(legacy, dict) and isinstance(legacy.get(part), str):
                yield (index, "function_call", part), ["choices", position, "delta", "function_call", part], \
                    legacy[part]
        calls = delta.get("tool_calls")
        for call_position, call in enumerate(calls if isinstance(calls, list) else []):
            function = call.get("function") if isinstance(call, dict) else None
            for part in ("name", "arguments"):
                if isinstance(function, dict) and isinstance(function.get(part), str):
                    yield ((index, "tool", call.get("index") if isinstance(call, dict) else None, part),
                           ["choices", position, "delta", "tool_calls", call_position, "function", part],
                           function[part])


_DATA_LINE = re.compile(r"^data: ?(.*)$", re.MULTILINE)


def _may_spell_key(text: str, scrubber: Scrubber) -> bool:
    """Whether the joined deltas of a stream may spell the key, read one event at a time with a bounded tail per
    field (nothing of the stream is kept). It answers True whenever it cannot tell (a data field split over lines,
    CR line ends, an event that is no JSON), so that the exact pass runs then."""
    import json

    from conformance.wire.sse import DONE_SENTINEL

    if "\r" in text or text.startswith("\ufeff"):
        return True
    tails: dict[tuple[Any, ...], str] = {}
    previous_end = -2
    for line in _DATA_LINE.finditer(text):
        if line.start() == previous_end + 1:  # two data lines in a row: one event's data split over lines
            return True
        previous_end = line.end()
        data = line.group(1)
        if data.strip() == DONE_SENTINEL:
            continue
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):
            return True
        for key, _, piece in _joined_pieces(chunk):
            window = tails.get(key, "") + piece
            if scrubber.find(window) is not None:
                return True
            tails[key] = window[-scrubber.overlap:]
    return False


def scrub_split_stream(text: str, scrubber: Scrubber) -> str:
    """An event stream whose deltas, once joined, spell the key: the pieces that carry it are redacted.

    Each delta is harmless alone, so the byte-level scrubbing cannot see it; a reader who reassembles the stream
    (as every client does) would. Only streams where the joined text holds the key are rewritten (event by event,
    each chunk re-encoded); any other stream is returned untouched, after a first pass that keeps nothing of it.
    """
    import json

    from conformance.wire.sse import DONE_SENTINEL, parse_events

    if not scrubber or "data:" not in text or not _may_spell_key(text, scrubber):
        return text
    events, _ = parse_events(text)
    chunks: list[Any] = []
    for event in events:
        try:
            chunks.append(json.loads(event.data) if event.data.strip() != DONE_SENTINEL else None)
        except ValueError:
            chunks.append(None)
    fields: dict[tuple[Any, ...], list[tuple[int, list[Any], str]]] = {}
    for number, chunk in enumerate(chunks):
        for key, path, piece in _joined_pieces(chunk):
            fields.setdefault(key, []).append((number, path, piece))
    touched: set[int] = set()
    for pieces in fields.values():
        joined = "".join(piece for _, _, piece in pieces)
        for start, end in scrubber.spans(joined):
            offset = 0
            first = True
            for number, path, piece in pieces:
                low, high = max(start, offset), min(end, offset + len(piece))
                if low < high:
                    node: Any = chunks[number]
                    for part in path[:-1]:
                        node = node[part]
                    current = node[path[-1]]
                    cut_from, cut_to = low - offset, high - offset
                    node[path[-1]] = current[:cut_from] + (REDACTED if first else "") + current[cut_to:]
                    first = False
                    touched.add(number)
                offset += len(piece)
    if not touched:
        return text
    out = []
    for number, event in enumerate(events):
        data = json.dumps(chunks[number]) if number in touched else event.data
        out.append("".join(f"data: {line}\n" for line in data.split("\n")) + "\n")
    return "".join(out)
