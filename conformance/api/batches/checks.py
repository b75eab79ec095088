"""Checks on the Batch API's answers (OpenAI API reference: Files, Batch; OpenAI guide: Batch API).

The lifecycle itself (upload, create, poll, read the output, delete) is conformance/api/batches/lifecycle.py; what
each answer
must say is here. The output file is judged line by line: each line's shape, that every request of the input comes
back once under its custom_id, and each answered request's body as the chat completion it is (the same checks as
a chat completion sent on its own, with pointers into the file's line).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from conformance.api import operation_for
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity

FILES_SOURCE = "OpenAI API reference, Files: upload a file (the File object: bytes, filename, purpose)"
BATCH_SOURCE = ("OpenAI API reference, Batch: create batch (input_file_id, endpoint, completion_window), the batch "
                "object")
GUIDE_SOURCE = ("OpenAI guide, Batch API (platform.openai.com/docs/guides/batch): the output file has one line per "
                "request, with its custom_id, and the response's status_code and body")
TERMINAL = ("completed", "failed", "expired", "cancelled")


@check("batch.file.upload", "file", needs_request=True, source=FILES_SOURCE)
def file_upload(ctx: CheckContext) -> Iterator[Finding]:
    """The File object says what was uploaded: its purpose, filename and size in bytes."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    sent = (ctx.request or {}).get("file") or {}
    wanted = {"purpose": (ctx.request or {}).get("purpose"), "filename": sent.get("filename"),
              "bytes": len(str(sent.get("content", "")).encode())}
    for field, value in wanted.items():
        if value is not None and field in body and body[field] != value:
            yield finding("batch.file.upload", f"/{field}", f"{field} is {body[field]!r}, not what was uploaded "
                          f"({value!r})", expected=value, seen=body[field])


@check("batch.create.echo", "batch", needs_request=True, source=BATCH_SOURCE)
def create_echo(ctx: CheckContext) -> Iterator[Finding]:
    """The batch object names the input file, endpoint and completion window it was created with."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    for field in ("input_file_id", "endpoint", "completion_window"):
        value = (ctx.request or {}).get(field)
        if value is not None and field in body and body[field] != value:
            yield finding("batch.create.echo", f"/{field}", f"{field} is {body[field]!r}, not the batch's "
                          f"({value!r})", expected=value, seen=body[field])


@check("batch.request_counts", "batch", source=BATCH_SOURCE + " (request_counts: total, completed, failed)")
def request_counts(ctx: CheckContext) -> Iterator[Finding]:
    """A finished batch's counts add up: completed and failed requests make the total."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    counts = body.get("request_counts")
    if body.get("status") not in ("completed", "failed") or not isinstance(counts, dict):
        return
    total, done, failed = counts.get("total"), counts.get("completed"), counts.get("failed")
    counted = [n for n in (total, done, failed) if isinstance(n, int) and not isinstance(n, bool)]
    if len(counted) == 3 and counted[1] + counted[2] != counted[0]:
        yield finding("batch.request_counts", "/request_counts", f"completed {done} + failed {failed} is not the "
                      f"total {total}", expected=total, seen=counted[1] + counted[2])


@check("batch.output.jsonl", "batch.output", severity=Severity.FAILURE, source=GUIDE_SOURCE + " (JSONL: one JSON "
       "object per line)")
def output_jsonl(ctx: CheckContext) -> Iterator[Finding]:
    """Every line of the output file is a JSON object."""
    for index, problem in ctx.stream_problems:
        yield finding("batch.output.jsonl", f"/{index}", problem, expected="a JSON object", seen="not JSON")


@check("batch.output.custom_ids", "batch.output", severity=Severity.FAILURE, needs_request=True, source=GUIDE_SOURCE)
def output_custom_ids(ctx: CheckContext) -> Iterator[Finding]:
    """Every request of the input file comes back once, under its own custom_id, in the output file or the error
    file (the order is free)."""
    lines = ctx.body if isinstance(ctx.body, list) else []
    wanted = [r.get("custom_id") for r in (ctx.request or {}).get("requests", [])]
    seen = Counter(line.get("custom_id") for line in lines if isinstance(line, dict))
    if (ctx.request or {}).get("error_file"):
        return  # the error file holds the failed requests only; the output file's judging counts them
    missing = [c for c in wanted if not seen[c] and c not in (ctx.request or {}).get("in_error_file", [])]
    if missing:
        yield finding("batch.output.custom_ids", "", f"the output has no line for {', '.join(map(str, missing))}",
                      expected=wanted, seen=sorted(map(str, seen)))
    for number, line in enumerate(lines):
        custom_id = line.get("custom_id") if isinstance(line, dict) else None
        if custom_id is not None and custom_id not in wanted:
            yield finding("batch.output.custom_ids", f"/{number}/custom_id", f"custom_id {custom_id!r} was not in "
                          "the input file", expected=wanted, seen=custom_id)
        elif custom_id is not None and seen[custom_id] > 1:
            yield finding("batch.output.custom_ids", f"/{number}/custom_id", f"custom_id {custom_id!r} comes back "
                          f"{seen[custom_id]} times", expected=1, seen=seen[custom_id])


@check("batch.output.bodies", "batch.output", severity=Severity.FAILURE, needs_request=True, source=GUIDE_SOURCE)
def output_bodies(ctx: CheckContext) -> Iterator[Finding]:
    """Each answered request's body is judged as the answer it is (a chat completion, an embeddings list), against
    the request that asked."""
    requests = {r.get("custom_id"): r for r in (ctx.request or {}).get("requests", [])}
    for number, line in enumerate(ctx.body if isinstance(ctx.body, list) else []):
        response = line.get("response") if isinstance(line, dict) else None
        if not isinstance(response, dict) or not isinstance(response.get("body"), dict):
            continue
        where = f"/{number}/response/body"
        status = response.get("status_code")
        if (ctx.request or {}).get("error_file"):
            continue  # a failed request's answer: its status is the point, not a finding
        if not isinstance(status, int) or not 200 <= status < 300:
            yield finding("batch.output.bodies", f"/{number}/response/status_code", f"the request "
                          f"{line.get('custom_id')!r} was answered with status {status!r}", expected=200, seen=status)
            continue
        asked = requests.get(line.get("custom_id")) or {}
        inner = CheckContext(kind=_answer_kind(asked), body=response["body"], request=asked.get("body"),
                             status=status, expect=ctx.expect, selection=ctx.selection)
        for found in ctx.judge_nested(inner) if ctx.judge_nested is not None else []:
            if found.check.startswith("http."):
                continue  # the line has no headers of its own
            yield replace(found, pointer=where + found.pointer, message=f"line {number + 1}: {found.message}")


@check("batch.file.deleted", "file.deleted", source="OpenAI API reference, Files: delete a file (deleted: true)")
def file_deleted(ctx: CheckContext) -> Iterator[Finding]:
    """A file the run uploaded (or its batch made) is deleted: the answer says ``deleted: true``."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if body.get("deleted") is not True:
        yield finding("batch.file.deleted", "/deleted", "the file was not deleted: it stays on the server",
                      expected=True, seen=body.get("deleted"))


def batch_status(body: Any) -> str | None:
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None


def _answer_kind(asked: dict[str, Any]) -> str:
    """The kind of answer an input line's request gets: its operation's (by the line's url, e.g. /v1/embeddings)."""
    path = str(asked.get("url", "")).removeprefix("/").removeprefix("v1/")
    try:
        return operation_for(path, "POST")[0].kind(asked.get("body"))
    except ValueError:
        return "chat.completion"  # a url the suite does not know: judged as the Batch API's default endpoint
