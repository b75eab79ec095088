"""``conformance validate``: judge captured responses with no server and no request.

Only the checks that need no request run (stream consistency, [DONE], usage arithmetic, tool-call ids and JSON
arguments, finish_reason vs tool calls, embedding order and base64 decoding), plus the schemas. What a capture
holds is told by its shape: a chat completion has ``choices``, an embeddings list has ``data``, anything that
carries an error (OpenAI's object, a Google RPC array, FastAPI's ``detail``, a bare message) is an error body.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.checks import CheckContext, run_checks
from conformance.checks.registry import Selection
from conformance.errors import UsageError
from conformance.findings import Finding
from conformance.sse import loads_checked, parse_stream

# What the report puts at the end of a body it shortened (see Exchange.to_dict).
CUT_MARKER = re.compile(r"\.\.\. \[(\d+) more characters in the cassette\]\s*$")
ERROR_KEYS = ("error", "detail", "message", "errors")


@dataclass
class Validation:
    kind: str
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)


MAX_CAPTURE_BYTES = 64_000_000  # the run's own body cap (--max-body-mb's default)


def read_capture(path: Path, limit: int = MAX_CAPTURE_BYTES) -> str:
    """The capture's text, refused by its size and its first bytes before it is read whole."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size  # a regular file says its size: refused unread
            if size > limit:
                raise UsageError(f"{path} is larger than {limit // 1_000_000} MB ({size // 1_000_000} MB), more "
                                 "than any answer the suite judges")
            head = handle.read(4096)
            if b"\x00" in head:
                raise UsageError(f"{path} is a binary file: give a JSON body, a JSON array of chunks or SSE text")
            rest = handle.read(limit + 1 - len(head)) if len(head) == 4096 else b""
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    raw = head + rest
    if len(raw) > limit:
        raise UsageError(f"{path} is larger than {limit // 1_000_000} MB, more than any answer the suite judges")
    if b"\x00" in raw[:4096]:
        raise UsageError(f"{path} is a binary file: give a JSON body, a JSON array of chunks or SSE text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text: give a JSON body, a JSON array of chunks or SSE text") from None


def detect_kind(document: Any) -> str:
    """Which response kind a decoded capture is, by its shape."""
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, dict) and "error" in first and "choices" not in first:
            return "error"  # Google's RPC style: an array holding one error object
        return "stream"
    if isinstance(document, dict):
        if document.get("object") == "chat.completion.chunk":
            return "chat.completion.chunk"
        if "choices" in document or document.get("object") == "chat.completion":
            return "chat.completion"
        if document.get("object") == "list" or "data" in document:
            return "embeddings"
        if any(key in document for key in ERROR_KEYS):
            return "error"
        return "chat.completion"
    return "error"  # a bare string or number where an object was due: servers send these as errors


def validate_file(path: Path, kind: str = "auto") -> tuple[str, list[Finding]]:
    result = validate_text(read_capture(path), kind, str(path))
    return result.kind, result.findings


def validate_text(text: str, kind: str = "auto", name: str = "input",
                  request: dict[str, Any] | None = None, selection: Selection | None = None) -> Validation:
    notes = []
    cut = CUT_MARKER.search(text)
    if cut:
        text = text[:cut.start()]
        notes.append(f"the input was cut by a report ({cut.group(1)} characters missing): findings about its end "
                     "may come from the cut; validate the cassette's full body instead")
    looks_sse = text.lstrip().startswith(("data:", ":", "event:", "id:", "retry:"))
    if looks_sse and kind in ("auto", "stream"):
        return Validation("stream", validate_stream_text(text, request, selection), notes)
    try:
        document, duplicates = loads_checked(text)
    except ValueError:
        lines = _json_lines(text)
        if lines is not None:
            notes.append(f"read as JSON Lines: {len(lines)} chunk(s), one per line")
            return Validation("stream", run_checks(CheckContext("stream", chunks=lines, done=True, request=request,
                                                                selection=selection)), notes)
        if kind == "stream":
            return Validation("stream", validate_stream_text(text, request, selection), notes)
        if cut:
            raise UsageError(f"{name} was cut by a report and is no longer JSON: validate the cassette's full body "
                             "instead") from None
        raise UsageError(f"{name} is neither JSON, JSON Lines nor SSE text (expected a JSON body, a JSON array of "
                         "chunks, one chunk per line, or 'data: ...' lines)") from None
    if kind == "auto":
        kind = detect_kind(document)
    ctx_duplicates = [(None, d) for d in duplicates]
    if kind == "stream":
        chunks = document if isinstance(document, list) else [document]
        return Validation("stream", run_checks(CheckContext("stream", chunks=chunks, done=True, request=request,
                                                            duplicate_keys=ctx_duplicates, selection=selection)),
                          notes)
    if kind == "chat.completion.chunk":
        return Validation(kind, run_checks(CheckContext("stream", chunks=[document], done=True,
                                                        duplicate_keys=ctx_duplicates, selection=selection)), notes)
    return Validation(kind, run_checks(CheckContext(kind, body=document, duplicate_keys=ctx_duplicates,
                                                    request=request, selection=selection)), notes)


def _json_lines(text: str) -> list[Any] | None:
    """One JSON value per non-empty line (how many tools log streams), or None when the text is not that."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    values = []
    for line in lines:
        try:
            values.append(json.loads(line))
        except (ValueError, RecursionError):
            return None
    return values


def validate_stream_text(text: str, request: dict[str, Any] | None = None,
                         selection: Selection | None = None) -> list[Finding]:
    parsed = parse_stream(text)
    ctx = CheckContext("stream", chunks=parsed.chunks, done=parsed.done, truncated=parsed.truncated, request=request,
                       stream_problems=parsed.problems, stray_lines=parsed.stray_lines,
                       events_after_done=parsed.events_after_done, duplicate_keys=parsed.duplicate_keys,
                       stream_error=parsed.error, selection=selection)
    return run_checks(ctx)
