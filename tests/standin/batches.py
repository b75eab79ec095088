"""The SYNTHETIC stand-in's Batch API (tests only, not a recording of any provider): files and batches in memory,
with the lifecycle OpenAI documents (validating -> in_progress -> completed, an output file with one line per
request), and knobs that make it misbehave the ways a real server can (a batch that never ends, one that fails,
a deletion that is refused, an output file that is wrong).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CREATED = 1_700_000_000


@dataclass
class BatchService:
    polls_to_finish: int = 1  # retrieves before the batch completes (a large number: it never ends in a test)
    final_status: str = "completed"
    refuse_delete: bool = False
    unsupported: bool = False
    # Changes the output file's lines before they are served (a deviation for a test to find).
    output_mutation: Callable[[list[dict[str, Any]]], list[Any]] | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    contents: dict[str, str] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handles(self, path: str) -> bool:
        endpoint = path.split("/v1/", 1)[-1]
        return endpoint.startswith(("files", "batches"))

    def answer(self, method: str, path: str, request: dict[str, Any]) -> tuple[int, Any, str]:
        """(status, body, content type); body is a dict (JSON) or str (a file's content)."""
        from tests.standin.server import answer as answer_request

        if self.unsupported:
            return 404, {"error": {"message": "Unknown path", "type": "invalid_request_error", "param": None,
                                   "code": None}}, "application/json"
        parts = path.split("?")[0].split("/v1/", 1)[-1].strip("/").split("/")
        with self._lock:
            if parts == ["files"] and method == "POST":
                return self._upload(request)
            if parts == ["batches"] and method == "POST":
                return self._create(request)
            if len(parts) == 2 and parts[0] == "batches" and method == "GET":
                return self._retrieve(parts[1], answer_request)
            if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
                return self._cancel(parts[1])
            if len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
                if parts[1] not in self.contents:
                    return _not_found("file", parts[1])
                return 200, self.contents[parts[1]], "application/octet-stream"
            if len(parts) == 2 and parts[0] == "files" and method == "DELETE":
                return self._delete(parts[1])
        return _not_found("path", path)

    def remaining(self) -> list[str]:
        """Files still held (what a run left behind)."""
        return sorted(self.files)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-standin-{next(self._ids)}"

    def _upload(self, request: dict[str, Any]) -> tuple[int, Any, str]:
        upload = request.get("file") or {}
        file_id = self._new_id("file")
        content = str(upload.get("content", ""))
        self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(content.encode()),
                               "created_at": CREATED, "expires_at": None, "filename": upload.get("filename", ""),
                               "purpose": request.get("purpose", ""), "status": "processed", "status_details": None}
        self.contents[file_id] = content
        return 200, self.files[file_id], "application/json"

    def _create(self, request: dict[str, Any]) -> tuple[int, Any, str]:
        input_id = request.get("input_file_id")
        if input_id not in self.files:
            return _not_found("file", str(input_id))
        batch_id = self._new_id("batch")
        lines = [json.loads(line) for line in self.contents[input_id].splitlines() if line.strip()]
        self.batches[batch_id] = {
            "id": batch_id, "object": "batch", "endpoint": request.get("endpoint"), "errors": None,
            "input_file_id": input_id, "completion_window": request.get("completion_window"),
            "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": CREATED,
            "in_progress_at": None, "expires_at": CREATED + 86_400, "finalizing_at": None, "completed_at": None,
            "failed_at": None, "expired_at": None, "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "metadata": None,
        }
        self.polls[batch_id] = 0
        return 200, self.batches[batch_id], "application/json"

    def _retrieve(self, batch_id: str, answer_request: Callable[[str, dict[str, Any]], Any]
                  ) -> tuple[int, Any, str]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _not_found("batch", batch_id)
        if batch["status"] in ("validating", "in_progress"):
            self.polls[batch_id] += 1
            if self.polls[batch_id] >= self.polls_to_finish:
                self._finish(batch, answer_request)
            else:
                batch.update(status="in_progress", in_progress_at=CREATED + 1)
        return 200, batch, "application/json"

    def _finish(self, batch: dict[str, Any], answer_request: Callable[[str, dict[str, Any]], Any]) -> None:
        """Each line answered as the stand-in answers that request on its own (its url: chat or embeddings)."""
        if self.final_status != "completed":
            batch.update(status=self.final_status, failed_at=CREATED + 2, errors={"object": "list", "data": [
                {"code": "standin_failure", "message": "the stand-in was told to fail this batch", "param": None,
                 "line": None}]})
            return
        requests = [json.loads(line) for line in self.contents[batch["input_file_id"]].splitlines() if line.strip()]
        lines: list[Any] = [
            {"id": f"batch_req_{n}", "custom_id": r["custom_id"],
             "response": {"status_code": 200, "request_id": f"req_{n}",
                          "body": answer_request(r["url"].removeprefix("/v1/"), r["body"]).body},
             "error": None}
            for n, r in enumerate(requests)]
        if self.output_mutation is not None:
            lines = self.output_mutation(lines)
        output_id = self._new_id("file")
        text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
        self.files[output_id] = {"id": output_id, "object": "file", "bytes": len(text.encode()),
                                 "created_at": CREATED + 2, "expires_at": None, "filename": "output.jsonl",
                                 "purpose": "batch_output", "status": "processed", "status_details": None}
        self.contents[output_id] = text
        batch.update(status="completed", output_file_id=output_id, in_progress_at=CREATED + 1,
                     finalizing_at=CREATED + 2, completed_at=CREATED + 2,
                     request_counts={"total": len(requests), "completed": len(requests), "failed": 0})

    def _cancel(self, batch_id: str) -> tuple[int, Any, str]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return _not_found("batch", batch_id)
        self.cancelled.append(batch_id)
        batch.update(status="cancelling", cancelling_at=CREATED + 3)
        return 200, batch, "application/json"

    def _delete(self, file_id: str) -> tuple[int, Any, str]:
        if self.refuse_delete:
            return 500, {"error": {"message": "deletion is broken today", "type": "server_error", "param": None,
                                   "code": None}}, "application/json"
        if file_id not in self.files:
            return _not_found("file", file_id)
        del self.files[file_id]
        self.contents.pop(file_id, None)
        self.deleted.append(file_id)
        return 200, {"id": file_id, "object": "file", "deleted": True}, "application/json"


def _not_found(what: str, name: str) -> tuple[int, Any, str]:
    return 404, {"error": {"message": f"No such {what}: {name}", "type": "invalid_request_error", "param": None,
                           "code": None}}, "application/json"


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data upload as {"purpose": ..., "file": {"filename", "content"}}."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            fields[name] = {"filename": part.get_filename(), "content": payload.decode("utf-8", "replace")}
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields
