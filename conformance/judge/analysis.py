"""From what happened on the wire to one verdict per case and surface.

The order of the questions is the order a user would ask them: did we get an answer at all (ERROR), did the
server refuse a documented parameter (UNSUPPORTED), does the feature work (FAIL), does the answer follow the
contract (DEVIATION)?
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.api import ANSWERS, is_stream, streamed_kind, unstreamed
from conformance.catalogue.model import Case
from conformance.checks import CheckContext, CheckCrashed, error_bodies, run_checks
from conformance.checks import http as http_checks
from conformance.checks.registry import ALL_CHECKS, Selection, finding
from conformance.model.errors import AnswerUnreadable
from conformance.model.expectations import Expectations
from conformance.model.findings import Finding, Severity
from conformance.model.verdicts import Verdict, verdict_for_findings
from conformance.surfaces.base import SurfaceOutcome
from conformance.wire.exchange import NOT_JUDGED, Exchange
from conformance.wire.sse import (
    ParsedStream,
    error_message,
    loads_checked,
    loads_leading,
    looks_like_event_stream,
    parse_stream,
)
from conformance.wire.transport import FailureKind


@dataclass
class CaseResult:
    case: str
    surface: str
    feature: str
    title: str
    section: str
    verdict: Verdict
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    exchange: dict[str, Any] | None = None
    cassette: str | None = None
    recorded_at: str | None = None
    sdk: dict[str, Any] = field(default_factory=dict)
    # The verdict once known gaps are set aside: what decides whether the run fails.
    gated_verdict: Verdict | None = None
    known_gap: str | None = None
    tier: str = "core"
    oracle: str = "documentation"
    samples: int = 1  # how many times the case was sent (--repeat K)
    # Pass counts per expectation over the samples (see conformance.model.samples): behaviour rates, and any check that
    # showed on some sample.
    expectations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A conversation's steps in order, each with its exchange (flow cases only; ``exchange`` is the last one).
    steps: list[dict[str, Any]] = field(default_factory=list)
    # In a live run that shared answers: "live", "shared from <surface>", or a conversation's mix (sharing.py).
    answered: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "surface": self.surface, "feature": self.feature, "title": self.title,
            "section": self.section, "verdict": self.verdict.value, "reason": self.reason,
            "findings": [f.to_dict() for f in self.findings],
            "exchange": self.exchange, "cassette": self.cassette, "recorded_at": self.recorded_at, "sdk": self.sdk,
            "gated_verdict": (self.gated_verdict or self.verdict).value, "known_gap": self.known_gap,
            "tier": self.tier, "oracle": self.oracle, "samples": self.samples, "expectations": self.expectations,
            **({"steps": self.steps} if self.steps else {}),
            **({"answered": self.answered} if self.answered else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        """The result ``to_dict`` wrote, restored (a result crosses pytest-xdist's process boundary as JSON):
        ``CaseResult.from_dict(r.to_dict()).to_dict() == r.to_dict()``."""
        return cls(case=data["case"], surface=data["surface"], feature=data["feature"], title=data["title"],
                   section=data["section"], verdict=Verdict(data["verdict"]), reason=data.get("reason", ""),
                   findings=[Finding.from_dict(f) for f in data.get("findings", [])], exchange=data.get("exchange"),
                   cassette=data.get("cassette"), recorded_at=data.get("recorded_at"), sdk=data.get("sdk", {}),
                   gated_verdict=Verdict(data["gated_verdict"]) if data.get("gated_verdict") else None,
                   known_gap=data.get("known_gap"), tier=data.get("tier", "core"),
                   oracle=data.get("oracle", "documentation"), samples=data.get("samples", 1),
                   expectations=data.get("expectations", {}), steps=data.get("steps", []),
                   answered=data.get("answered"))


def context_for(case: Case, exchange: Exchange, request: dict[str, Any] | None,
                expect: Expectations | dict[str, Any], selection: Selection | None = None) -> CheckContext:
    """Decode the raw response into what checks look at (``decode_answer``, the one decoder of an operation's
    answer). Raises AnswerUnreadable when the body cannot be decoded, StreamError when a stream carried the server's
    own error or broke off."""
    ctx = CheckContext(kind=case.kind, operation=case.operation.id, request=request, status=exchange.status,
                       expect=Expectations.of(expect),
                       content_type=exchange.content_type, selection=selection)
    ctx.encoding_problem = exchange.encoding_problem
    return decode_answer(case.kind, exchange.response_body, exchange.content_type).into(ctx)


@dataclass
class Decoded:
    """An answer decoded as its operation's kind says (or as what came, where the wire disagrees with the request):
    one JSON value (and anything after it), a stream's events (their names kept), or an output file's lines."""

    kind: str
    body: Any = None
    stream: ParsedStream | None = None
    duplicate_keys: list[tuple[int | None, str]] = field(default_factory=list)
    trailing: str = ""
    line_problems: list[tuple[int, str]] = field(default_factory=list)  # JSON lines that are not JSON

    def into(self, ctx: CheckContext) -> CheckContext:
        ctx.kind, ctx.body, ctx.trailing = self.kind, self.body, self.trailing
        ctx.duplicate_keys = list(self.duplicate_keys)
        if self.stream is not None:
            parsed = self.stream
            ctx.chunks, ctx.done, ctx.truncated = parsed.chunks, parsed.done, parsed.truncated
            ctx.stream_problems, ctx.stray_lines = parsed.problems, parsed.stray_lines
            ctx.events_after_done, ctx.duplicate_keys = parsed.events_after_done, parsed.duplicate_keys
            ctx.event_names = list(parsed.event_names)
        elif self.line_problems:
            ctx.stream_problems = self.line_problems
        return ctx


def decode_answer(kind: str, text: str, content_type: str = "") -> Decoded:
    """The one decoder of an answer of ``kind`` (the run's, the proxy's and ``validate --kind``'s alike): a stream
    (chat's chunks, the Responses API's named events) as server-sent events, a batch output file as JSON lines,
    anything else as one JSON value. A JSON body where a stream was asked for, or an event stream where one JSON
    body was, is decoded as what came (the request's ``stream`` then makes it the stream.requested finding)."""
    if is_stream(kind):
        parsed = parse_stream(text)
        if parsed.error is not None:
            raise StreamError(f"the server reported an error mid-stream (event {parsed.error[0]}): "
                              f"{parsed.error[1]}")
        if parsed.truncated and not parsed.done and parsed.chunks:
            # The body ended inside an event (no blank line closed it): the transport cut it, whatever the framing
            # said (a Content-Length shorter than the stream ends it "cleanly" there).
            raise StreamError(f"the stream broke off inside event {len(parsed.chunks)}: the body was cut (a "
                              "Content-Length shorter than the stream, or a closed connection)")
        if not parsed.chunks and not parsed.done and text.strip():
            # Not an event stream at all: a JSON answer is judged as what it is; anything else cannot be.
            body_kind = unstreamed(kind)
            answered = _body_instead(text, body_kind)
            if answered is None:
                raise AnswerUnreadable(f"the streamed response is not an event stream ({_preview(text)})")
            body, duplicates, trailing = answered
            return Decoded(body_kind, body, duplicate_keys=[(None, d) for d in duplicates], trailing=trailing)
        return Decoded(kind, stream=parsed)
    if kind == "batch.output":
        lines, problems = decode_jsonl(text)
        return Decoded(kind, lines, line_problems=problems)
    stream_kind = streamed_kind(kind)
    if stream_kind and looks_like_event_stream(text) and parse_stream(text).chunks:
        return Decoded(stream_kind, stream=parse_stream(text))
    body, duplicates, trailing = decode_json_leading(text, content_type)
    return Decoded(kind, body, duplicate_keys=[(None, d) for d in duplicates], trailing=trailing)


def _body_instead(text: str, kind: str) -> tuple[Any, list[str], str] | None:
    """The decoded answer of ``kind`` a server sent as one JSON body where a stream was asked for, or None when it
    sent no such thing (a chat completion is known by its choices, any other answer by the object it names)."""
    try:
        value = loads_leading(text)
    except ValueError:
        return None
    if not isinstance(value[0], dict):
        return None
    named = ANSWERS[kind].object if kind in ANSWERS else ""
    return value if ("choices" in value[0] if kind == "chat.completion" else
                     bool(named) and value[0].get("object") == named) else None


def decode_jsonl(text: str) -> tuple[list[Any], list[tuple[int, str]]]:
    """A JSONL file (a batch's output): the decoded lines, and (line index, problem) for each that is not JSON (kept
    as None so that pointers still name the line)."""
    lines: list[Any] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            lines.append(loads_checked(line)[0])
        except ValueError as exc:
            problems.append((len(lines), f"line {number + 1} is not JSON ({str(exc)[:80]}): {_preview(line)}"))
            lines.append(None)
    return lines, problems


class StreamError(AnswerUnreadable):
    """The stream carried the server's own error report instead of (the rest of) an answer."""


def decode_json_leading(text: str, content_type: str = "") -> tuple[Any, list[str], str]:
    """The decoded body, its duplicated keys and whatever followed its value (sse.loads_leading); AnswerUnreadable
    (one line) when it does not even start with a JSON value."""
    try:
        return loads_leading(text)
    except ValueError as exc:
        if "nested" in str(exc):
            raise AnswerUnreadable(f"the response body is {exc}") from None
        what = "an HTML page" if "html" in content_type or text.lstrip().lower().startswith("<") else "not JSON"
        raise AnswerUnreadable(f"the response body is {what} ({_preview(text)})") from None


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat[:80]) if flat else "empty body"


def _route_missing(exchange: Exchange) -> bool:
    """Whether a 404/405 says the route does not exist, not that a resource or model does not: no OpenAI-style
    error object (one with a string ``type``) came with it (a web framework's ``{"detail": "Not Found"}``, an HTML
    page, an empty body)."""
    try:
        body, _ = loads_checked(exchange.response_body)
    except ValueError:
        return True
    error = body.get("error") if isinstance(body, dict) else None
    return not (isinstance(error, dict) and isinstance(error.get("type"), str))


def _error_message(exchange: Exchange) -> str:
    try:
        body, _ = loads_checked(exchange.response_body)
    except ValueError:
        return _preview(exchange.response_body)
    message = " ".join(error_message(body).split())  # one line, whatever the server's formatting
    return message[:200] if message else _preview(exchange.response_body)


def judge(case: Case, outcome: SurfaceOutcome, request: dict[str, Any], expect: Expectations | dict[str, Any],
          selection: Selection | None = None) -> tuple[Verdict, str, list[Finding]]:
    """The verdict, its reason and the findings of one exchange, judged with the run's check ``selection``."""
    exchange = outcome.exchange
    expect = Expectations.of(expect)
    selection = selection or ALL_CHECKS
    if outcome.error_kind is FailureKind.NOT_RECORDED:
        return Verdict.NOT_RECORDED, outcome.error or "not recorded", []
    if exchange is None or exchange.status is None:
        return Verdict.ERROR, f"no complete response: {outcome.error or 'nothing came back'}", []
    status = exchange.status
    if exchange.error and status < 400:
        if exchange.response_body.startswith(NOT_JUDGED):  # whole, but past the judging budget: nothing broke
            return Verdict.ERROR, f"not judged: {exchange.error}", []
        return Verdict.ERROR, f"the response broke off: {exchange.error}", []
    if 300 <= status < 400:
        where = exchange.response_headers.get("location", "no Location")
        return Verdict.ERROR, f"redirected (HTTP {status} to {where}): OpenAI answers in place; not followed", []
    if status == 429:
        return Verdict.ERROR, f"rate limited (HTTP 429): {_error_message(exchange)}", error_body_findings(
            exchange, request, expect, selection, case.operation.id)
    if status >= 500:
        reason = f"server error HTTP {status}: {_error_message(exchange)}"
        judged = error_body_findings(exchange, request, expect, selection, case.operation.id)
        if case.expect_error:  # OpenAI rejects this request cleanly: say what the answer should have been
            wanted = " or ".join(map(str, case.expect_error))
            return Verdict.ERROR, reason, [finding("errors.status", "", f"HTTP {status} where OpenAI answers "
                                                   f"{wanted}: a server error for a request the server should "
                                                   "reject", expected=list(case.expect_error), seen=status), *judged]
        return Verdict.ERROR, reason, judged
    if case.expect_error and status in (404, 405) and status not in case.expect_error and _route_missing(exchange):
        # The error case asks how the server refuses a request; a server that does not serve the operation at all
        # refuses every request the same way, so there is nothing to judge beyond that (as for the case's siblings).
        return Verdict.UNSUPPORTED, (f"HTTP {status}: the server does not serve {case.method} "
                                     f"/{case.operation.path} ({_error_message(exchange)})"), error_body_findings(
            exchange, request, expect, selection, case.operation.id)
    if not case.expect_error and 400 <= status < 500:
        return Verdict.UNSUPPORTED, f"HTTP {status}: {_error_message(exchange)}", error_body_findings(
            exchange, request, expect, selection, case.operation.id)
    try:
        ctx = context_for(case, exchange, request, expect, selection)
    except StreamError as exc:
        return Verdict.ERROR, str(exc), []
    except AnswerUnreadable as exc:
        if case.expect_error and status >= 400:
            ctx = CheckContext(kind="error", operation=case.operation.id, body=None, request=request, status=status,
                               expect=expect,
                               selection=selection)
            findings = [Finding("schema.error", "", str(exc), Severity.DEVIATION, "OpenAI error object", "not JSON")]
            return _verdict_from(findings + _status_findings(ctx), outcome, "", selection)
        return Verdict.ERROR, str(exc), []
    if case.expect_error and status < 400:
        ctx.kind = "error"
        return _verdict_from(_status_findings(ctx) + list(http_checks.content_type(ctx)), outcome, "", selection)
    try:
        findings = run_checks(ctx)
    except CheckCrashed as exc:
        return Verdict.ERROR, str(exc), []
    if outcome.error_kind:
        return Verdict.ERROR, outcome.error or outcome.error_kind, findings
    return _verdict_from(findings, outcome, "", selection)


def error_body_findings(exchange: Exchange, request: dict[str, Any], expect: Expectations,
                        selection: Selection | None = None, operation: str = "") -> list[Finding]:
    """The error body behind an UNSUPPORTED or ERROR verdict, judged as any error answer is (its shape, type and
    code against what OpenAI is recorded sending): the verdict says what happened, the findings how the server
    said it. Statuses are the verdict's business here, not a finding."""
    from dataclasses import replace

    ctx = CheckContext(kind="error", operation=operation, request=request, status=exchange.status,
                       expect=replace(expect, status=()),
                       content_type=exchange.content_type, selection=selection)
    try:
        ctx.body, duplicates, ctx.trailing = decode_json_leading(exchange.response_body, exchange.content_type)
    except AnswerUnreadable as exc:
        return [Finding("schema.error", "", f"the error body is not an OpenAI error object: {exc}", Severity.DEVIATION,
                        "OpenAI error object", "not JSON")]
    ctx.duplicate_keys = [(None, d) for d in duplicates]
    try:
        return [f for f in run_checks(ctx) if f.check != "http.content_type" or exchange.content_type]
    except CheckCrashed:
        return []


def _status_findings(ctx: CheckContext) -> list[Finding]:
    return list(error_bodies.status(ctx))


def _verdict_from(findings: list[Finding], outcome: SurfaceOutcome, reason: str,
                  selection: Selection) -> tuple[Verdict, str, list[Finding]]:
    findings = findings + [f for f in outcome.findings if selection.selected(f.check)]
    verdict = verdict_for_findings(findings)
    if verdict is Verdict.FAIL:
        reason = reason or next(f.message for f in findings if f.severity is Severity.FAILURE)
    elif verdict is Verdict.DEVIATION:
        checks = sorted({f.check for f in findings})
        reason = reason or f"{len(findings)} finding(s): {', '.join(checks[:4])}"
    return verdict, reason, findings
