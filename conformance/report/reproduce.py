"""A curl command that sends a recorded exchange's request again, for a report reader who wants to see a finding
with their own eyes: the key travels as ``$VARIABLE`` (the shell fills it in; the report never holds it).

The command is for a POSIX shell: the URL is single-quoted, the body goes in through a quoted here-document (no
expansion inside it) whose end marker does not occur in the body. A request the report holds only in part (cut at
its size limit) or sends as multipart (a file upload) gets no command: its cassette holds it whole.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CUT_MARK = "more characters in the cassette]"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_command(exchange: dict[str, Any] | None, target: dict[str, Any]) -> str | None:
    """The command, or None when the exchange cannot be sent again from the report alone."""
    if not isinstance(exchange, dict) or not isinstance(exchange.get("url"), str):
        return None
    body = exchange.get("request_body") or ""
    headers = {str(k).lower(): str(v) for k, v in (exchange.get("request_headers") or {}).items()}
    content_type = headers.get("content-type", "")
    if body.endswith(CUT_MARK) or "multipart/" in content_type or "\n" in exchange["url"]:
        return None
    variable = str(target.get("api_key_env") or "OPENAI_API_KEY")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        return None
    kind, _, name = str(target.get("auth") or "bearer").partition(":")
    parts = urlsplit(exchange["url"])
    url = exchange["url"]
    key_header = ""
    if kind == "query":
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
        base = urlunsplit(parts._replace(query=urlencode(query)))
        url_arg = _quoted(base + ("&" if query else "?") + f"{name}=") + f'"${variable}"'
    else:
        url_arg = _quoted(url)
        key_header = f'-H "Authorization: Bearer ${variable}"' if kind == "bearer" else \
            f'-H {_quoted(name + ": ")}"${variable}"'
    method = str(exchange.get("method") or "GET").upper()
    words = ["curl", "-sS", *(["-X", method] if method not in ("GET", "POST") or not body else [])]
    if method == "POST" and not body:
        words += ["-X", "POST"]
    words.append(url_arg)
    if key_header:
        words.append(key_header)
    if "text/event-stream" in headers.get("accept", "") or '"stream":true' in body.replace(" ", ""):
        words.append("-N")
    if not body:
        return " ".join(words)
    words += ["-H", _quoted("Content-Type: " + (content_type or "application/json")), "--data-binary", "@-"]
    marker = "BODY"
    while any(line.strip() == marker for line in body.splitlines()):
        marker += "_"
    return " ".join(words) + f" <<'{marker}'\n{body}\n{marker}"
