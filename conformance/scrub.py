"""Secret scrubbing: the API key never reaches a cassette, a report, a log line or the terminal.

Header values, the ``key`` query parameter and any occurrence of the key's value are replaced; the scrubbed text
says where a secret was (``REDACTED``) so that a reader still sees a key was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_HEADERS = frozenset({"authorization", "x-goog-api-key", "api-key", "x-api-key", "proxy-authorization"})
SECRET_QUERY_PARAMETERS = frozenset({"key", "api_key", "api-key"})

# What a leaked key looks like (Google API keys, OpenAI keys, bearer tokens, keys in a query string).
KEY_PATTERN = re.compile(
    r"AIza[0-9A-Za-z_-]{20,}|sk-[A-Za-z0-9_-]{20,}|Bearer [A-Za-z0-9._-]{16,}|[?&]key=[A-Za-z0-9_-]{16,}"
)


class Scrubber:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so that a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: (REDACTED if k.lower() in SECRET_HEADERS else self.text(v)) for k, v in headers.items()}

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.query:
            query = [(k, REDACTED if k.lower() in SECRET_QUERY_PARAMETERS else v)
                     for k, v in parse_qsl(parts.query, keep_blank_values=True)]
            parts = parts._replace(query=urlencode(query, safe=REDACTED))
        return self.text(urlunsplit(parts))


def looks_like_key(text: str) -> str | None:
    """The first key-like string in ``text`` (abbreviated), or None."""
    match = KEY_PATTERN.search(text)
    return None if match is None else match.group(0)[:8] + "..."
