"""A Batch API lifecycle on one surface: upload the requests, create the batch, wait for it, judge its output, and
remove what the run made.

The steps are the OpenAI SDKs' own calls (``files.create`` with a JSONL of requests and purpose ``batch``,
``batches.create``, ``batches.retrieve`` until the batch ends, ``files.content`` of its output file, and
``files.delete``), each sent by the surface like any single request and judged as its response kind (file, batch,
batch output, file deletion); each next request is built from the previous answer's ids. Waiting is bounded: a live
run polls, backing off from 2 to 30 seconds, for at most ``--batch-wait`` seconds; a batch that has not ended
by then is cancelled, its files are deleted, and the case says its output was not judged (NOT RUN, or FAIL when
an earlier step already failed). A replay makes the recorded polls without waiting and ends where the recording
did. Everything the run makes on the server is written to a ledger as it is made and struck off as it is
removed (conformance/api/batches/leftovers.py), so an interrupted run says what it left behind.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.api.batches.checks import TERMINAL, batch_status
from conformance.api.batches.leftovers import Ledger
from conformance.api.operation import plain_id, segment
from conformance.catalogue.model import CHAT_MODEL, EMBEDDING_MODEL, Case
from conformance.checks.registry import finding as registered_finding
from conformance.judge.analysis import judge
from conformance.model.findings import Finding, Severity
from conformance.model.samples import Sample
from conformance.model.verdicts import Verdict, verdict_for_findings
from conformance.run.flow_runner import StepSender
from conformance.run.profiles import Profile
from conformance.run.settings import Settings
from conformance.surfaces import RunEnv, Surface, SurfaceOutcome

POLL_FIRST_S, POLL_MAX_S = 2.0, 30.0
INPUT_NAME = "conformance-batch.jsonl"
_STOPS = (Verdict.ERROR, Verdict.NOT_RECORDED, Verdict.UNSUPPORTED)


def planned_batch_requests(wait_s: float) -> int:
    """At most how many requests one lifecycle sends: upload, create, the polls a wait of ``wait_s`` allows (with
    the back-off below), a cancel or the output (and error) file, and the deletions."""
    polls, waited, interval = 0, 0.0, min(POLL_FIRST_S, wait_s / 10)
    while waited + interval <= wait_s:
        waited += interval
        polls += 1
        interval = min(interval * 2, POLL_MAX_S)
    return 2 + polls + 2 + 3


def input_lines(case: Case, profile: Profile) -> list[dict[str, Any]]:
    """The input file's requests (OpenAI guide, Batch API: custom_id, method, url, body), the models filled in."""
    lines = []
    for request in case.batch:
        body = dict(request["body"])
        model = body.get("model")
        body["model"] = {CHAT_MODEL: profile.chat_model, EMBEDDING_MODEL: profile.embedding_model}.get(
            model, model) if isinstance(model, str) else model
        lines.append({"custom_id": request["custom_id"], "method": "POST",
                      "url": request.get("url", "/v1/chat/completions"), "body": body})
    return lines


@dataclass
class _Lifecycle:
    case: Case
    surface: Surface
    env: RunEnv
    settings: Settings
    sender: StepSender
    ledger: Ledger | None
    findings: list[Finding] = field(default_factory=list)
    number: int = 0
    last: SurfaceOutcome | None = None
    last_request: dict[str, Any] = field(default_factory=dict)

    def send(self, name: str, endpoint: str, body: dict[str, Any], method: str = "",
             judged_with: dict[str, Any] | None = None) -> tuple[Verdict, str, Any]:
        """One step: (its verdict, reason, the decoded answer or None). Findings are kept once per check and
        pointer across the polls of one batch (the same deviation on every poll is one finding)."""
        self.number += 1
        step = replace(self.case, endpoint=endpoint, body=body, http_method=method, batch=(), steps=())
        outcome, sent = self.sender.send(step, name, self.number)
        request = judged_with if judged_with is not None else (body if step.is_upload else sent)
        verdict, reason, found = judge(step, outcome, request, {}, self.settings.checks)
        known = {(f.check, f.pointer) for f in self.findings}
        self.findings += [replace(f, step=self.number) for f in found if (f.check, f.pointer) not in known]
        self.last, self.last_request = outcome, request
        answer = None  # the ids to go on with: a file or batch object (an output file's lines are judged, not read)
        if step.kind != "batch.output" and outcome.exchange is not None and outcome.exchange.status is not None \
                and 200 <= outcome.exchange.status < 300:
            try:
                answer = json.loads(outcome.exchange.response_body)
            except (ValueError, RecursionError):
                answer = None
        return verdict, f"step {self.number} ({name}): {reason}" if reason else "", answer

    def forget_last(self) -> None:
        """A replayed poll the recording never made: not a step of this lifecycle."""
        self.sender.steps.pop()
        self.number -= 1

    def made(self, kind: str, resource_id: str, what: str) -> None:
        if self.ledger is not None:
            self.ledger.add(kind, resource_id, what)

    def removed(self, kind: str, resource_id: str) -> None:
        if self.ledger is not None:
            self.ledger.remove(kind, resource_id)


def run_batch(case: Case, surface: Surface, env: RunEnv, settings: Settings, cassette: Path,
              ) -> tuple[Sample, SurfaceOutcome, dict[str, Any], list[dict[str, Any]]]:
    """One sample of the lifecycle: (its sample, the decisive step's outcome and request, every step's exchange)."""
    env.share = None  # each surface's batch is its own: polls of one batch are never another surface's answers
    ledger = Ledger(settings.report_dir, case.id, surface.name) if settings.recording else None
    life = _Lifecycle(case, surface, env, settings, StepSender(case, surface, env, settings, cassette), ledger)
    requests = input_lines(case, settings.profile)
    content = "".join(json.dumps(line) + "\n" for line in requests)
    files: list[str] = []
    try:
        stopped = _lifecycle(life, requests, content, files)
    finally:
        for file_id in files:  # the uploaded file, then the ones the batch made: removed however the run ends
            verdict, _, answer = life.send("delete file", f"files/{segment(file_id)}", {}, "DELETE")
            if verdict not in _STOPS and isinstance(answer, dict) and answer.get("deleted") is True:
                life.removed("file", file_id)
            elif verdict is not Verdict.NOT_RECORDED and not any(
                    f.check == "batch.file.deleted" and f.step == life.number for f in life.findings):
                life.findings.append(replace(registered_finding(
                    "batch.file.deleted", "", f"the file {file_id} could not be deleted ({_status(life.last)}): it "
                    "stays on the server", expected="deleted: true", seen=_status(life.last)), step=life.number))
    sample = _sample(case, stopped, life.findings)
    return sample, life.last or SurfaceOutcome(), life.last_request, life.sender.steps


def _lifecycle(life: _Lifecycle, requests: list[dict[str, Any]], content: str,
               files: list[str]) -> tuple[Verdict, str] | None:
    """The steps in order; returns why the lifecycle stopped short (a verdict and reason), or None when the output
    was judged. ``files`` collects what must be deleted."""
    # Until its answer names it, what a request may have made is on the ledger as pending: a run stopped while
    # the answer is in flight still says where to look.
    life.made("pending", "upload", f"an upload of {INPUT_NAME} was under way: the file may be on the server")
    verdict, reason, uploaded = life.send("upload", "files", {"purpose": "batch", "file": {
        "filename": INPUT_NAME, "content": content}})
    life.removed("pending", "upload")
    if verdict in _STOPS:
        return verdict, reason
    problem = kind_problem(uploaded, "file")
    if problem:
        return Verdict.FAIL, f"step {life.number} (upload): {problem}: nothing to create a batch with"
    file_id = uploaded.get("id") if isinstance(uploaded, dict) else None
    if not plain_id(file_id):
        return Verdict.FAIL, f"step {life.number} (upload): the File object has no id to create a batch with" + \
            _shown(file_id)
    files.append(file_id)
    life.made("file", file_id, "the uploaded batch input")
    body = {"input_file_id": file_id, "endpoint": requests[0]["url"], "completion_window": "24h"}
    life.made("pending", "create", f"a batch was being created from {file_id}: it may be running")
    verdict, reason, batch = life.send("create", "batches", body)
    life.removed("pending", "create")
    if verdict in _STOPS:
        return verdict, reason
    problem = kind_problem(batch, "batch")
    if problem:
        return Verdict.FAIL, f"step {life.number} (create): {problem}: no batch to follow"
    batch_id = batch.get("id") if isinstance(batch, dict) else None
    if not plain_id(batch_id):
        return Verdict.FAIL, f"step {life.number} (create): the batch object has no id to follow" + _shown(batch_id)
    life.made("batch", batch_id, "a batch the run created")
    status, polls = batch_status(batch), 0
    deadline = time.monotonic() + life.settings.batch_wait_s
    interval = min(POLL_FIRST_S, life.settings.batch_wait_s / 10)
    while status not in TERMINAL:
        if life.settings.recording:
            if time.monotonic() + interval > deadline:
                break
            time.sleep(interval)
            interval = min(interval * 2, POLL_MAX_S)
        verdict, reason, polled = life.send("retrieve", f"batches/{segment(batch_id)}", {}, "GET")
        if verdict is Verdict.NOT_RECORDED and not life.settings.recording:
            life.forget_last()  # the recording polled this often and no more: its wait ended here
            break
        if verdict in _STOPS:
            return verdict, reason
        polls += 1
        problem = kind_problem(polled, "batch", batch_id)
        if problem:  # not the batch: waiting longer would only poll the same wrong answer again
            return Verdict.FAIL, f"step {life.number} (retrieve): {problem}"
        batch = polled
        status = batch_status(batch)
    if status not in TERMINAL:
        verdict, _, _ = life.send("cancel", f"batches/{segment(batch_id)}/cancel", {})
        if verdict not in _STOPS:
            life.removed("batch", batch_id)
        return Verdict.NOT_RUN, (f"the batch had not finished after {polls} poll(s) (last status {status!r}; "
                                 "OpenAI's completion window is 24h): its output was not judged; the batch was "
                                 "cancelled and its input file deleted. A live run waits --batch-wait seconds")
    life.removed("batch", batch_id)
    for key in ("output_file_id", "error_file_id"):
        made = batch.get(key)
        if made not in (None, "") and not plain_id(made):
            return Verdict.FAIL, f"step {life.number} (retrieve): {key} is not a file id{_shown(made)}"
        if isinstance(made, str) and made:
            files.append(made)
            life.made("file", made, f"the batch's {key.removesuffix('_id').replace('_', ' ')}")
    if status != "completed":
        errors = (batch.get("errors") or {}).get("data") if isinstance(batch.get("errors"), dict) else None
        said = "; ".join(str(e.get("message", e))[:120] for e in errors or [] if isinstance(e, dict))
        return Verdict.FAIL, (f"step {life.number} (retrieve): the batch of {len(requests)} valid request(s) ended "
                              f"{status!r}" + (f": {said}" if said else ""))
    in_error_file: list[str] = []
    error_file = batch.get("error_file_id")
    if isinstance(error_file, str) and error_file:
        verdict, reason, _ = life.send("read error file", f"files/{segment(error_file)}/content", {}, "GET",
                                       judged_with={"requests": requests, "error_file": True})
        if verdict in _STOPS:
            return verdict, reason
        in_error_file = _custom_ids(life.last)
    output_file = batch.get("output_file_id")
    if not isinstance(output_file, str) or not output_file:
        if in_error_file:
            return None
        return Verdict.FAIL, f"step {life.number} (retrieve): the completed batch names no output file"
    verdict, reason, _ = life.send("read output", f"files/{segment(output_file)}/content", {}, "GET",
                                   judged_with={"requests": requests, "in_error_file": in_error_file})
    return (verdict, reason) if verdict in _STOPS else None


def kind_problem(answer: Any, expected: str, resource_id: str | None = None) -> str | None:
    """What is wrong with a lifecycle step's 2xx answer for going on: not a JSON object, another kind of object
    (a chat completion where a Batch belongs), or another id. None when it is the object asked for."""
    if not isinstance(answer, dict):
        return "the answer is not a JSON object"
    kind = answer.get("object")
    if kind is not None and kind != expected:
        return f"the answer is a {str(kind)[:40]!r} object, not a {expected!r}"
    if resource_id is not None and answer.get("id") != resource_id:
        return f"the answer is about another id{_shown(answer.get('id'))}, not {resource_id[:80]!r}"
    return None


def _shown(value: Any) -> str:
    return "" if value in (None, "") else f" (it says {str(value)[:80]!r})"


def _custom_ids(outcome: SurfaceOutcome | None) -> list[str]:
    from conformance.judge.analysis import decode_jsonl

    if outcome is None or outcome.exchange is None:
        return []
    lines, _ = decode_jsonl(outcome.exchange.response_body)
    return [str(line["custom_id"]) for line in lines if isinstance(line, dict) and "custom_id" in line]


def _status(outcome: SurfaceOutcome | None) -> str:
    exchange = outcome.exchange if outcome is not None else None
    if exchange is None or exchange.status is None:
        return (outcome.error if outcome is not None and outcome.error else "no answer")[:120]
    return f"HTTP {exchange.status}"


def _sample(case: Case, stopped: tuple[Verdict, str] | None, findings: list[Finding]) -> Sample:
    """The lifecycle's verdict: a step that could not be done (UNSUPPORTED, ERROR, NOT RECORDED) or a wait that
    ended first (NOT RUN) says so, unless a finding on the way is worse (a FAIL is a FAIL, finished or not)."""
    by_findings = verdict_for_findings(findings)
    failures = [f for f in findings if f.severity is Severity.FAILURE]
    if stopped is not None:
        verdict, reason = stopped
        if verdict is Verdict.NOT_RUN and failures:
            return Sample(Verdict.FAIL, f"step {failures[0].step}: {failures[0].message} (and {reason})", findings)
        if verdict is Verdict.NOT_RUN and findings:
            reason += f"; {len(findings)} finding(s) on the way: {', '.join(sorted({f.check for f in findings})[:4])}"
        if verdict.rank >= by_findings.rank or verdict is Verdict.NOT_RUN:
            return Sample(verdict, reason, findings)
    if failures:
        return Sample(Verdict.FAIL, f"step {failures[0].step}: {failures[0].message}", findings)
    if by_findings is Verdict.DEVIATION:
        return Sample(by_findings, f"{len(findings)} finding(s): {', '.join(sorted({f.check for f in findings})[:4])}",
                      findings)
    return Sample(by_findings, "", findings)

