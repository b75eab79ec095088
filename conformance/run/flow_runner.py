"""The one loop that drives a conversation's steps on a surface: send, judge, echo what the client returned, go on.

A surface sends one step (a one-request case) and returns the exchange plus what its client read; everything a
conversation adds lives here: building the next request from that reading, finding out what a refused next turn
needed (see conformance/api/chat/conversation.py), and saying which step failed and why. Live and replayed runs take
the same
path: a replay rebuilds each next request from the replayed answer and matches it against the cassette, and a
request the cassette does not hold is NOT RECORDED with where it differs from the one recorded there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from conformance.api import families
from conformance.api.chat import conversation as chat_conversation
from conformance.api.chat.conversation import (
    MAX_NAMED,
    Turn,
    echo_finding,
    leaves,
    narrow,
    resolve,
    unnamed_extensions_finding,
    without,
)
from conformance.catalogue.model import Case
from conformance.checks.registry import finding as registered_finding
from conformance.judge.analysis import judge
from conformance.model.errors import CannotFollow
from conformance.model.expectations import Expectations
from conformance.model.findings import Finding, Severity
from conformance.model.samples import Sample
from conformance.model.verdicts import Verdict, verdict_for_findings
from conformance.run.sending import run_with_retries, sent_request
from conformance.run.settings import Settings
from conformance.surfaces import RunEnv, Surface, SurfaceOutcome
from conformance.wire.transport import FailureKind

# A refused next turn: the server answered, and said no (the key, the rate limit and the server's own failures to
# answer at all are not about what was echoed).
_NOT_ABOUT_THE_ECHO = (401, 403, 429)


class StepSender:
    """Sends steps for one sample and keeps each exchange in order, named, for the report."""

    def __init__(self, case: Case, surface: Surface, env: RunEnv, settings: Settings, cassette: Path) -> None:
        self.case, self.surface, self.env, self.settings, self.cassette = case, surface, env, settings, cassette
        self.steps: list[dict[str, Any]] = []

    def send(self, step_case: Case, name: str, number: int) -> tuple[SurfaceOutcome, dict[str, Any]]:
        self.settings.pace()
        outcome, _ = run_with_retries(self.surface, step_case, self.env, self.settings)
        planned = step_case.request_body(self.env.profile)
        if outcome.error_kind is FailureKind.NOT_RECORDED:
            outcome.error = _unrecorded(self.cassette, planned, step_case.path(self.env.profile))
        self.steps.append({"step": number, "name": name,
                           "exchange": outcome.exchange.to_dict() if outcome.exchange else None})
        return outcome, sent_request(outcome, planned)


def _refused(outcome: SurfaceOutcome) -> bool:
    status = outcome.exchange.status if outcome.exchange else None
    return status is not None and status >= 400 and status not in _NOT_ABOUT_THE_ECHO


def _accepted(outcome: SurfaceOutcome) -> bool:
    status = outcome.exchange.status if outcome.exchange else None
    return status is not None and 200 <= status < 300


def conversation_rule(case: Case) -> ModuleType:
    """How the case's family continues a conversation (``conformance/api/<family>/conversation.py``): what a turn
    echoes (``portable``), what the wire said (``wire_message``), the server's own fields (``extension_pointers``),
    the calls a turn made (``calls``) and where findings about the echo point (``ROOT``)."""
    return families.part_of(case.operation.family, "conversation") or chat_conversation


def run_flow(case: Case, surface: Surface, env: RunEnv, settings: Settings, expect: Expectations,
             cassette: Path) -> tuple[Sample, SurfaceOutcome, dict[str, Any], list[dict[str, Any]]]:
    """One sample of a conversation: (its sample, the decisive step's outcome and request, every step's exchange)."""
    rule = conversation_rule(case)
    sender = StepSender(case, surface, env, settings, cassette)
    outcome, request = sender.send(case, case.first_step, 1)
    verdict, reason, found = judge(case, outcome, request, expect, settings.checks)
    findings = [replace(f, step=1) for f in found]
    turns: list[Turn] = []
    previous, previous_case, previous_name = outcome, case, case.first_step
    for number, step in enumerate(case.steps, start=2):
        stop = _cannot_go_on(verdict, reason, previous, step.name, number - 1, previous_name, rule)
        if stop is not None:
            return _sample(case, stop[0], stop[1], findings), previous, request, sender.steps
        message = previous.message or {}
        wire = rule.wire_message(previous.exchange.response_body, previous_case.stream) if previous.exchange \
            else None
        turns.append(Turn(request, rule.portable(message)))
        try:
            endpoint = step.path(turns) if step.path is not None else ""
        except CannotFollow as stop_here:
            unusable = registered_finding("flow.step.id", stop_here.pointer, str(stop_here),
                                          expected="an id (one path segment)", seen=stop_here.seen)
            findings.append(replace(unusable, step=stop_here.step))
            return (_sample(case, Verdict.FAIL, f"step {number} ({step.name}): {stop_here}", findings), previous,
                    request, sender.steps)
        step_case = case.step_case(step.build(turns), step.expect, endpoint, step.method)
        outcome, sent = sender.send(step_case, step.name, number)
        if _refused(outcome) and wire is not None and step.path is None:
            outcome, sent, turns, extra = _why_refused(sender, case, step, number, turns, request, message, wire,
                                                       previous_case.stream, outcome, sent, rule)
            findings += extra
        step_case = case.step_case(sent, step.expect, endpoint, step.method)
        verdict, reason, found = judge(step_case, outcome, sent, step.expect, settings.checks)
        findings += [replace(f, step=number) for f in found]
        if _refused(outcome) and verdict is not Verdict.ERROR:  # a 4xx: the server said no to the conversation
            refused = registered_finding("flow.step.refused", "", f"the server refused the next turn ({step.name}): "
                                         f"{reason}", expected="2xx",
                                         seen=outcome.exchange.status if outcome.exchange else None)
            findings.append(replace(refused, step=number))
        elif verdict in (Verdict.ERROR, Verdict.NOT_RECORDED):
            return (_sample(case, verdict, f"step {number} ({step.name}): {reason}", findings), outcome, sent,
                    sender.steps)
        request, previous, previous_case, previous_name = sent, outcome, step_case, step.name
    return _sample(case, None, reason, findings), previous, request, sender.steps


def _cannot_go_on(verdict: Verdict, reason: str, outcome: SurfaceOutcome, next_name: str, number: int,
                  name: str, rule: ModuleType) -> tuple[Verdict, str] | None:
    """Why the conversation stops before its next step, or None when it goes on."""
    if verdict in (Verdict.ERROR, Verdict.NOT_RECORDED, Verdict.UNSUPPORTED):
        return verdict, f"step {number} ({name}): {reason}"
    if outcome.message is None:
        why = reason if verdict is Verdict.FAIL and reason else "the client returned no assistant message to go on with"
        return Verdict.FAIL, f"step {number} ({name}): {why}"
    if "tool" in next_name and not rule.calls(outcome.message):
        kept = verdict if verdict in (Verdict.FAIL, Verdict.FLAKY) else Verdict.FAIL
        return kept, f"step {number} ({name}): no tool call came back, so there is no tool result to send"
    return None


def _why_refused(sender: StepSender, case: Case, step: Any, number: int, turns: list[Turn], request: dict[str, Any],
                 message: dict[str, Any], wire: dict[str, Any], stream: bool, outcome: SurfaceOutcome,
                 sent: dict[str, Any], rule: ModuleType) -> tuple[SurfaceOutcome, dict[str, Any], list[Turn],
                                                                   list[Finding]]:
    """The next turn was refused with the portable echo of the client's message: was it the client's reading of
    the answer, or a field of the server's own that the echo left out? Each question is one more request."""
    findings: list[Finding] = []
    label = sender.surface.label

    def attempt(echo: dict[str, Any], what: str) -> tuple[SurfaceOutcome, dict[str, Any], list[Turn]]:
        tried = [*turns[:-1], Turn(request, echo)]
        result, body = sender.send(case.step_case(step.build(tried), step.expect), f"{step.name} ({what})", number)
        return result, body, tried

    exchange_reading, client_reading = rule.portable(wire), rule.portable(message)
    if exchange_reading != client_reading:
        retried, body, tried = attempt(exchange_reading, "the exchange's own reading echoed")
        if _accepted(retried):
            findings.append(replace(registered_finding(
                "flow.echo.client_reading", rule.ROOT,
                f"the next turn is refused with {label}'s reading of the answer echoed back and accepted with the "
                f"exchange's own: the client misread the answer ({_difference(exchange_reading, client_reading)})",
                expected=exchange_reading, seen=client_reading), step=number))
            return retried, body, tried, findings
    candidates = rule.extension_pointers(wire)
    if not candidates:
        return outcome, sent, turns, findings
    retried, body, tried = attempt(wire, "verbatim message echoed")
    if not _accepted(retried):
        return outcome, sent, turns, findings
    def accepted_without(group: list[str]) -> bool | None:
        shown = group[0] if len(group) == 1 else f"{len(group)} fields from {group[0]}"
        check, _, _ = attempt(without(wire, *group), f"verbatim without {shown}")
        if check.exchange is None or check.exchange.status is None:
            return None  # not recorded, or no answer: nothing proved either way
        return _accepted(check)

    required, finished = narrow(candidates, accepted_without) if len(candidates) > 1 else (candidates, True)
    fields = [leaf for root in required for leaf in leaves(wire, root)]
    kept = all(_has(message, leaf) and _same(message, wire, leaf) for leaf in fields)
    for leaf in fields[:MAX_NAMED]:
        findings.append(replace(echo_finding(leaf, kept, label, stream, _seen(wire, leaf), rule.ROOT), step=number))
    if len(fields) > MAX_NAMED or not finished or not required:
        findings.append(replace(unnamed_extensions_finding(len(candidates), len(fields), MAX_NAMED, finished,
                                                           label, rule.ROOT), step=number))
    return retried, body, tried, findings


def _has(message: dict[str, Any], pointer: str) -> bool:
    try:
        resolve(message, pointer)
        return True
    except (KeyError, IndexError, TypeError, ValueError):
        return False


def _same(a: dict[str, Any], b: dict[str, Any], pointer: str) -> bool:
    return resolve(a, pointer) == resolve(b, pointer)


def _seen(wire: dict[str, Any], pointer: str) -> Any:
    value = resolve(wire, pointer)
    text = json.dumps(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _difference(expected: dict[str, Any], seen: dict[str, Any]) -> str:
    from conformance.api.chat.conversation import first_difference

    where, want, got = first_difference(expected, seen)
    return f"at {where or '/'}: {json.dumps(got)[:80]} where the exchange says {json.dumps(want)[:80]}"


def _unrecorded(cassette: Path, planned: dict[str, Any], path: str) -> str:
    """NOT RECORDED, and where this request differs from the nearest one the cassette holds for the same path."""
    from conformance.api.chat.conversation import first_difference
    from conformance.cassettes import read_cassette

    base = "the cassette has no recorded exchange matching this request"
    try:
        interactions = read_cassette(cassette)["interactions"]
    except Exception:
        return base
    bodies = []
    for interaction in interactions:
        recorded = interaction["request"]
        if not str(recorded.get("uri", "")).split("?")[0].endswith("/" + path):
            continue
        try:
            bodies.append(json.loads(recorded.get("body") or "null"))
        except (TypeError, ValueError):
            continue
    if not bodies:
        return base
    differences = [first_difference(body, planned) for body in bodies]
    where, want, got = min(differences, key=lambda d: -len(d[0] or ""))
    return (f"{base}: the request differs from the recorded one at {where or '/'} (recorded "
            f"{json.dumps(want)[:80]}, now {json.dumps(got)[:80]})")


def _prefixed(case: Case, reason: str) -> str:
    return f"{case.reason_prefix}{reason}" if case.reason_prefix and not reason.startswith(case.reason_prefix) \
        else reason


def _sample(case: Case, stopped: Verdict | None, reason: str, findings: list[Finding]) -> Sample:
    """The conversation's verdict: the stop's (ERROR, NOT RECORDED, a step it could not reach) or its findings',
    whichever is worse; a FAIL on any step fails the flow, and the reason names the step."""
    by_findings = verdict_for_findings(findings)
    if stopped is not None and stopped.rank >= by_findings.rank:
        return Sample(stopped, _prefixed(case, reason), findings)
    failures = [f for f in findings if f.severity is Severity.FAILURE]
    if by_findings in (Verdict.FAIL, Verdict.FLAKY) and failures:
        first = next((f for f in failures if f.nature != "behaviour"), failures[0])
        reason = f"step {first.step}: {first.message}"
    elif by_findings is Verdict.DEVIATION:
        reason = f"{len(findings)} finding(s): {', '.join(sorted({f.check for f in findings})[:4])}"
    else:
        reason = ""
    return Sample(by_findings, _prefixed(case, reason) if reason else reason, findings)
