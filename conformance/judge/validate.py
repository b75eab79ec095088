"""``conformance validate``: judge captured responses with no server and no request.

Without ``--request`` only the checks that need no request run (stream consistency, [DONE], usage arithmetic,
tool-call ids and JSON arguments, finish_reason vs tool calls, embedding order and base64 decoding, the answer's
agreement with itself), plus the schemas; with it, every obligation the request puts on the answer is judged the
way a run judges it. What a capture holds is told by the ``object`` it names, then its shape, then the request:
every answer kind the suite knows (chat completions and their streams, embeddings, errors, models, images, files,
batches and their output lines). Anything that carries an error (OpenAI's object, a Google RPC array, FastAPI's
``detail``, a bare message) and nothing an answer carries is an error body.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.api import ANSWERS, Operation, operation_for
from conformance.checks import CheckContext
from conformance.checks import run_checks as judge_all
from conformance.checks.registry import Selection
from conformance.judge.analysis import decode_answer
from conformance.model.errors import AnswerUnreadable, UsageError
from conformance.model.findings import Finding
from conformance.wire.exchange import Exchange
from conformance.wire.sse import loads_checked, loads_leading, looks_like_event_stream, parse_stream

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


def detect_kind(document: Any, request: dict[str, Any] | None = None) -> str:
    """Which response kind a decoded capture is: by its ``object`` first (every OpenAI answer but images and errors
    names its own), then by its shape, then by the request that asked for it. An error is always possible, so a
    body that carries one and nothing an answer carries is an error whatever was asked."""
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, dict) and "error" in first and "choices" not in first:
            return "error"  # Google's RPC style: an array holding one error object
        if document and all(isinstance(line, dict) and "custom_id" in line for line in document):
            return "batch.output"
        return "responses.stream" if responses_events(document) else "stream"
    if not isinstance(document, dict):
        return "error"  # a bare string or number where an object was due: servers send these as errors
    by_object = OBJECT_KINDS.get(str(document.get("object")))
    if by_object == "file" and "deleted" in document:
        return "file.deleted"
    if by_object == "response" and "deleted" in document:
        return "response.deleted"
    if responses_events([document]):
        return "responses.stream"  # one event of a Responses stream
    if by_object:
        return by_object
    if "choices" in document:
        return "chat.completion"
    if "custom_id" in document and "response" in document:
        return "batch.output"
    data = document.get("data")
    if isinstance(data, list) and (document.get("object") == "list" or "error" not in document):
        items = [item for item in data if isinstance(item, dict)]
        for key, kind in (("embedding", "embeddings"), ("b64_json", "images"), ("url", "images"),
                          ("revised_prompt", "images")):
            if any(key in item for item in items):
                return kind
        if any(item.get("object") == "model" for item in items):
            return "models"
        if not items:
            return _requested_kind(request) or ("models" if document.get("object") == "list" else "images")
    if isinstance(document.get("output"), list) and ("created_at" in document or "status" in document):
        return "response"  # a response object that names no object (or a wrong one): told by its output items
    if any(document.get(key) not in (None, "", [], {}) for key in ERROR_KEYS):
        return "error"  # (a response object's "error": null is no error)
    return _requested_kind(request) or "chat.completion"


# The ``object`` each answer names, as the endpoint families declare it (a list names the kind of its items, told
# below by their shape).
OBJECT_KINDS = {answer.object: answer.kind for answer in ANSWERS.values() if answer.object}


# Fields a Responses API request has and an embeddings request (whose only other field is also ``input``) has not.
RESPONSES_FIELDS = ("instructions", "previous_response_id", "tools", "text", "reasoning", "max_output_tokens",
                    "store", "background", "include", "conversation", "tool_choice")


def responses_events(chunks: list[Any]) -> bool:
    """Whether decoded stream events are the Responses API's (typed ``response.*`` events), not chat chunks."""
    typed = [c for c in chunks if isinstance(c, dict) and isinstance(c.get("type"), str)]
    return bool(typed) and any(c["type"].startswith("response.") for c in typed) and \
        not any("choices" in c for c in chunks if isinstance(c, dict))


def _is_responses_request(request: dict[str, Any]) -> bool:
    given = request.get("input")
    return any(k in request for k in RESPONSES_FIELDS) or (
        isinstance(given, list) and any(isinstance(v, dict) for v in given))


def _requested_kind(request: dict[str, Any] | None) -> str | None:
    """The kind of answer a request body asks for, where its fields say it (chat, Responses, embeddings, images)."""
    if not request:
        return None
    if "messages" in request:
        return "stream" if request.get("stream") is True else "chat.completion"
    if ("input" in request and _is_responses_request(request)) or "previous_response_id" in request:
        return "responses.stream" if request.get("stream") is True else "response"
    if "input" in request:
        return "embeddings"
    if "prompt" in request:
        return "images"
    return None


def validate_file(path: Path, kind: str = "auto") -> tuple[str, list[Finding]]:
    result = validate_text(read_capture(path), kind, str(path))
    return result.kind, result.findings


def validate_text(text: str, kind: str = "auto", name: str = "input",
                  request: dict[str, Any] | None = None, selection: Selection | None = None, *,
                  status: int | None = None, content_type: str | None = None) -> Validation:
    """Judge one captured answer. ``status`` and ``content_type``, when the capture has them (an exchange the
    proxy saw), are judged too: the error code's status, the Content-Type."""

    def run_checks(ctx: CheckContext) -> list[Finding]:
        ctx.status, ctx.content_type = status, content_type
        return judge_all(ctx)

    notes = []
    cut = CUT_MARKER.search(text)
    if cut:
        text = text[:cut.start()]
        notes.append(f"the input was cut by a report ({cut.group(1)} characters missing): findings about its end "
                     "may come from the cut; validate the cassette's full body instead")
    if looks_like_event_stream(text) and kind in ("auto", "stream", "responses.stream"):
        if kind == "auto":
            kind = "responses.stream" if responses_events(parse_stream(text).chunks) else "stream"
        return Validation(kind, validate_stream_text(text, request, selection, status=status,
                                                     content_type=content_type, kind=kind), notes)
    trailing = ""
    try:
        document, duplicates = loads_checked(text)
    except ValueError:
        lines = _json_lines(text)
        if lines is not None:
            line_kind = "batch.output" if kind == "batch.output" or (
                kind == "auto" and all(isinstance(v, dict) and "custom_id" in v for v in lines)) else "stream"
            notes.append(f"read as JSON Lines: {len(lines)} " + ("line(s)" if line_kind == "batch.output"
                                                                 else "chunk(s), one per line"))
            if line_kind == "batch.output":
                return Validation(line_kind, run_checks(CheckContext(line_kind, body=lines, selection=selection)),
                                  notes)
            stream_kind = "responses.stream" if responses_events(lines) else "stream"
            ctx = CheckContext(stream_kind, chunks=lines, done=stream_kind == "stream",
                               request=_request_for(stream_kind, request), selection=selection)
            return Validation(stream_kind, run_checks(ctx), notes)
        if kind in ("stream", "responses.stream"):
            return Validation(kind, validate_stream_text(text, request, selection, status=status,
                                                         content_type=content_type, kind=kind), notes)
        try:
            document, duplicates, trailing = loads_leading(text)
        except ValueError:
            if cut:
                raise UsageError(f"{name} was cut by a report and is no longer JSON: validate the cassette's full "
                                 "body instead") from None
            raise UsageError(f"{name} is neither JSON, JSON Lines nor SSE text (expected a JSON body, a JSON array "
                             "of chunks, one chunk per line, or 'data: ...' lines)") from None
        notes.append("the JSON value is followed by more text: the value is judged, the rest is json.trailing")
    if kind == "auto":
        kind = detect_kind(document, request)
    ctx_duplicates: list[tuple[int | None, str]] = [(None, d) for d in duplicates]
    if kind == "stream":
        chunks = document if isinstance(document, list) else [document]
        return Validation("stream", run_checks(CheckContext("stream", chunks=chunks, done=True, request=request,
                                                            duplicate_keys=ctx_duplicates, selection=selection)),
                          notes)
    if kind == "responses.stream":
        events = document if isinstance(document, list) else [document]
        return Validation(kind, run_checks(CheckContext(kind, chunks=events, request=_request_for(kind, request),
                                                        duplicate_keys=ctx_duplicates, selection=selection)), notes)
    if kind == "chat.completion.chunk":
        return Validation(kind, run_checks(CheckContext("stream", chunks=[document], done=True,
                                                        duplicate_keys=ctx_duplicates, selection=selection)), notes)
    if kind == "batch.output" and isinstance(document, dict):
        document = [document]  # one line of an output file
    return Validation(kind, run_checks(CheckContext(kind, body=document, duplicate_keys=ctx_duplicates,
                                                    request=_request_for(kind, request), selection=selection,
                                                    trailing=trailing)), notes)


def _request_for(kind: str, request: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request the checks may read: a request of another family (a chat body beside a models list) obliges
    nothing of this answer, and a batch's output lines are judged against their input file, which a single
    request body is not."""
    if request is None or kind == "batch.output":
        return None
    asked = _requested_kind(request)
    if asked is None or kind == "error" or asked == kind or {asked, kind} in (
            {"stream", "chat.completion"}, {"response", "responses.stream"}):
        return request
    if kind in ("response", "responses.stream") and asked == "embeddings":
        return request  # {model, input}: a Responses request as much as an embeddings one; the answer says which
    return None


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
                         selection: Selection | None = None, *, status: int | None = None,
                         content_type: str | None = None, kind: str = "stream") -> list[Finding]:
    parsed = parse_stream(text)
    ctx = CheckContext(kind, chunks=parsed.chunks, done=parsed.done, truncated=parsed.truncated,
                       request=_request_for(kind, request), event_names=list(parsed.event_names),
                       stream_problems=parsed.problems, stray_lines=parsed.stray_lines,
                       events_after_done=parsed.events_after_done, duplicate_keys=parsed.duplicate_keys,
                       stream_error=parsed.error, selection=selection, status=status,
                       content_type=content_type)
    return judge_all(ctx)


def judge_exchange(exchange: Exchange, selection: Selection | None = None) -> Validation:
    """An exchange seen on the wire (the proxy's), judged as a run judges it: its operation told by its path and
    method, the answer's kind by the operation and the request's body (or an error, for a 4xx/5xx), decoded by the
    run's own decoder (analysis.decode_answer), and every obligation that body puts on the answer."""
    operation = operation_at(urlsplit(exchange.url).path, exchange.method)
    try:
        sent = json.loads(exchange.request_body) if exchange.request_body else None
    except ValueError:
        sent = None  # a multipart upload, or no JSON: nothing in it obliges the answer
    request = sent if isinstance(sent, dict) else None
    if exchange.status is not None and exchange.status >= 400:
        kind = "error"
    elif operation is not None:
        kind = operation.kind(request)
    else:  # a path the suite knows no operation for: told by the answer's own shape
        try:
            return validate_text(exchange.response_body, "auto", exchange.url, request, selection,
                                 status=exchange.status, content_type=exchange.content_type or None)
        except UsageError as exc:
            return Validation("auto", [], [f"not judged: {exc}"])
    ctx = CheckContext(kind, operation=operation.id if operation else "", request=request, status=exchange.status,
                       content_type=exchange.content_type or None, selection=selection)
    ctx.encoding_problem = exchange.encoding_problem
    try:
        decode_answer(kind, exchange.response_body, exchange.content_type).into(ctx)
    except AnswerUnreadable as exc:  # a stream's own error report, or no answer at all: what a run calls ERROR
        return Validation(kind, [], [f"not judged: {exc}"])
    return Validation(ctx.kind, judge_all(ctx))


def operation_at(path: str, method: str) -> Operation | None:
    """The operation a request path names, whatever the base URL before it (/v1/, /v1beta/openai/): the longest
    tail of the path that is an operation's path."""
    segments = [s for s in path.split("/") if s]
    for start in range(len(segments)):
        try:
            return operation_for("/".join(segments[start:]), method)[0]
        except ValueError:
            continue
    return None
