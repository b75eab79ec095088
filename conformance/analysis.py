"""From what happened on the wire to one verdict per case and surface.

The order of the questions is the order a user would ask them: did we get an answer at all (ERROR), did the
server refuse a documented parameter (UNSUPPORTED), does the feature work (FAIL), does the answer follow the
contract (DEVIATION)?
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.catalogue.model import Case
from conformance.checks import CheckContext, run_checks
from conformance.checks import errors as error_checks
from conformance.checks import http as http_checks
from conformance.exchange import Exchange
from conformance.findings import Finding, Severity
from conformance.sse import parse_stream
from conformance.surfaces.base import SurfaceOutcome
from conformance.verdicts import Verdict


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
    duration_s: float = 0.0
    exchange: dict[str, Any] | None = None
    cassette: str | None = None
    recorded_at: str | None = None
    sdk: dict[str, Any] = field(default_factory=dict)
    # The verdict once known gaps are set aside: what decides whether the run fails.
    gated_verdict: Verdict | None = None
    known_gap: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case, "surface": self.surface, "feature": self.feature, "title": self.title,
            "section": self.section, "verdict": self.verdict.value, "reason": self.reason,
            "findings": [f.to_dict() for f in self.findings], "duration_s": round(self.duration_s, 4),
            "exchange": self.exchange, "cassette": self.cassette, "recorded_at": self.recorded_at, "sdk": self.sdk,
            "gated_verdict": (self.gated_verdict or self.verdict).value, "known_gap": self.known_gap,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        gated = data.get("gated_verdict")
        return cls(**{**data, "verdict": Verdict(data["verdict"]), "gated_verdict": Verdict(gated) if gated else None,
                      "findings": [Finding.from_dict(f) for f in data.get("findings", [])]})


def context_for(case: Case, exchange: Exchange, request: dict[str, Any] | None, expect: dict[str, Any]) -> CheckContext:
    """Decode the raw response into what checks look at. Raises ValueError when the body cannot be decoded."""
    kind = case.kind
    ctx = CheckContext(kind=kind, request=request, status=exchange.status, expect=expect,
                       content_type=exchange.content_type)
    if kind == "stream":
        parsed = parse_stream(exchange.response_body)
        if not parsed.chunks and not parsed.done and exchange.response_body.strip():
            # Not an event stream at all: maybe a JSON body where SSE was asked for.
            raise ValueError(f"the streamed response is not an event stream ({_preview(exchange.response_body)})")
        ctx.chunks, ctx.done, ctx.truncated = parsed.chunks, parsed.done, parsed.truncated
        ctx.stream_problems = parsed.problems
    else:
        ctx.body = decode_json(exchange.response_body, exchange.content_type)
    return ctx


def decode_json(text: str, content_type: str = "") -> Any:
    try:
        return json.loads(text)
    except ValueError:
        what = "an HTML page" if "html" in content_type or text.lstrip().lower().startswith("<") else "not JSON"
        raise ValueError(f"the response body is {what} ({_preview(text)})") from None


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat[:80]) if flat else "empty body"


def _error_message(exchange: Exchange) -> str:
    try:
        body = json.loads(exchange.response_body)
    except ValueError:
        return _preview(exchange.response_body)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message)[:200] if message else _preview(exchange.response_body)


def judge(case: Case, outcome: SurfaceOutcome, request: dict[str, Any], expect: dict[str, Any]) -> tuple[
        Verdict, str, list[Finding]]:
    exchange = outcome.exchange
    if outcome.error_kind == "not_recorded":
        return Verdict.NOT_RECORDED, outcome.error or "not recorded", []
    if exchange is None or exchange.status is None:
        return Verdict.ERROR, f"no complete response: {outcome.error or 'nothing came back'}", []
    status = exchange.status
    if exchange.error and status < 400:
        return Verdict.ERROR, f"the response broke off: {exchange.error}", []
    if status == 429:
        return Verdict.ERROR, f"rate limited (HTTP 429): {_error_message(exchange)}", []
    if status >= 500:
        return Verdict.ERROR, f"server error HTTP {status}: {_error_message(exchange)}", []
    if not case.expect_error and 400 <= status < 500:
        return Verdict.UNSUPPORTED, f"HTTP {status}: {_error_message(exchange)}", []
    try:
        ctx = context_for(case, exchange, request, expect)
    except ValueError as exc:
        if case.expect_error and status >= 400:
            ctx = CheckContext(kind="error", body=None, request=request, status=status, expect=expect)
            findings = [Finding("schema.error", "", str(exc), Severity.DEVIATION, "OpenAI error object", "not JSON")]
            return _verdict_from(findings + _status_findings(ctx), outcome, "")
        return Verdict.ERROR, str(exc), []
    if case.expect_error and status < 400:
        ctx.kind = "error"
        return _verdict_from(_status_findings(ctx) + list(http_checks.content_type(ctx)), outcome, "")
    findings = run_checks(ctx)
    if outcome.error_kind:
        return Verdict.ERROR, outcome.error or outcome.error_kind, findings
    return _verdict_from(findings, outcome, "")


def _status_findings(ctx: CheckContext) -> list[Finding]:
    return list(error_checks.status(ctx))


def verdict_for_findings(findings: list[Finding]) -> Verdict:
    if any(f.severity is Severity.FAILURE for f in findings):
        return Verdict.FAIL
    return Verdict.DEVIATION if findings else Verdict.PASS


def _verdict_from(findings: list[Finding], outcome: SurfaceOutcome, reason: str) -> tuple[Verdict, str, list[Finding]]:
    findings = findings + outcome.findings
    verdict = verdict_for_findings(findings)
    if verdict is Verdict.FAIL:
        reason = reason or next(f.message for f in findings if f.severity is Severity.FAILURE)
    elif verdict is Verdict.DEVIATION:
        checks = sorted({f.check for f in findings})
        reason = reason or f"{len(findings)} finding(s): {', '.join(checks[:4])}"
    return verdict, reason, findings
