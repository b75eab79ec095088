"""``conformance validate``: judge captured responses with no server and no request.

Only the checks that need no request run (stream consistency, [DONE], usage arithmetic, tool-call ids and
JSON arguments, finish_reason vs tool calls, embedding order and base64 decoding), plus the schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.checks import CheckContext, run_checks
from conformance.errors import UsageError
from conformance.findings import Finding
from conformance.sse import parse_stream

KINDS = ("chat.completion", "chat.completion.chunk", "stream", "embeddings", "error")


def read_capture(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:4096]:
        raise UsageError(f"{path} is a binary file: give a JSON body, a JSON array of chunks or SSE text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: give a JSON body, a JSON array of chunks or SSE text") from None


def detect_kind(document: Any) -> str:
    if isinstance(document, list):
        return "stream"
    if isinstance(document, dict):
        obj = document.get("object")
        if obj == "chat.completion.chunk":
            return "chat.completion.chunk"
        if obj == "list" or "data" in document:
            return "embeddings"
        if "error" in document:
            return "error"
        return "chat.completion"
    return "chat.completion"


def validate_file(path: Path, kind: str = "auto") -> tuple[str, list[Finding]]:
    text = read_capture(path)
    stripped = text.lstrip()
    if stripped.startswith(("data:", ":", "event:")):
        return "stream", validate_stream_text(text)
    try:
        document = json.loads(text)
    except ValueError:
        if kind == "stream":
            return "stream", validate_stream_text(text)
        raise UsageError(f"{path} is neither JSON nor SSE text (expected a JSON body, a JSON array of chunks, "
                         "or 'data: ...' lines)") from None
    if kind == "auto":
        kind = detect_kind(document)
    if kind == "stream":
        chunks = document if isinstance(document, list) else [document]
        return "stream", run_checks(CheckContext("stream", chunks=chunks, done=True))
    if kind == "chat.completion.chunk":
        return kind, run_checks(CheckContext("stream", chunks=[document], done=True))
    return kind, run_checks(CheckContext(kind, body=document))


def validate_stream_text(text: str) -> list[Finding]:
    parsed = parse_stream(text)
    ctx = CheckContext("stream", chunks=parsed.chunks, done=parsed.done, truncated=parsed.truncated,
                       stream_problems=parsed.problems)
    return run_checks(ctx)
