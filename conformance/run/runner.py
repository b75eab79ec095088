"""Run one case on one surface and judge it: the unit of work behind each pytest test."""

from __future__ import annotations

import json
import os
from typing import Any

from conformance.cassettes import cassette_path, read_provenance
from conformance.catalogue.model import Case
from conformance.checks.registry import behaviour_expectations
from conformance.judge.analysis import CaseResult
from conformance.judge.gaps import apply as apply_gaps
from conformance.model.findings import Finding, Severity
from conformance.model.samples import Sample, combine
from conformance.model.verdicts import Verdict
from conformance.run.scenarios import scenario_for
from conformance.run.settings import Settings
from conformance.surfaces import SURFACES, RunEnv, SurfaceOutcome
from conformance.wire.sharing import summary


def run_case(case: Case, surface_name: str, settings: Settings) -> CaseResult:
    """Never raises (but for an interrupt): whatever goes wrong in the suite itself is this case's ERROR."""
    try:
        return _run_case(case, surface_name, settings)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a bug of ours or a client's must cost one row its verdict, never the row
        result = CaseResult(case=case.id, surface=surface_name, feature=case.feature, title=case.title,
                            section=case.section, verdict=Verdict.ERROR)
        result.reason = settings.scrubber.text(f"the suite failed on this case: {internal_error(exc)}")
        result.gated_verdict = Verdict.ERROR
        return result


def internal_error(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the response nests too deeply to process"
    if isinstance(exc, MemoryError):
        return "the response is too large to process"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def error_result(case_id: str, surface: str, settings: Settings, reason: str) -> CaseResult:
    """The row of a test that ended without a verdict: ERROR, so that no selected case goes missing."""
    from conformance.catalogue import CASES

    case = next((c for c in CASES if c.id == case_id), None)
    result = CaseResult(case=case_id, surface=surface, feature=case.feature if case else "Saved cases",
                        title=case.title if case else case_id, section=case.section if case else "",
                        verdict=Verdict.ERROR, reason=settings.scrubber.text(reason))
    result.gated_verdict = Verdict.ERROR
    return result


def _run_case(case: Case, surface_name: str, settings: Settings) -> CaseResult:
    surface = SURFACES[surface_name]
    path = cassette_path(settings.cassette_dir, surface_name, case.id)
    result = CaseResult(case=case.id, surface=surface_name, feature=case.feature, title=case.title,
                        section=case.section, verdict=Verdict.PASS, cassette=_relative(path), tier=case.tier,
                        oracle=case.oracle)
    unavailable = surface.unavailable()
    if unavailable:
        result.verdict, result.reason = Verdict.NOT_RUN, unavailable
        return result
    if (case.id, surface_name) in settings.deferred:
        result.verdict = Verdict.NOT_RUN
        result.reason = (f"not sent: the key's daily quota ({settings.profile.rpd} requests) was spent on the cases "
                         f"before it; the next run records the rest: {settings.record_command()}")
        return result
    if not settings.recording and not path.is_file():
        result.verdict = Verdict.NOT_RECORDED
        result.reason = (f"no cassette {result.cassette}; {settings.key_hint()}, then record it: "
                         f"{settings.record_command(case.id)}")
        return result
    env = RunEnv(settings.profile, settings.api_key, settings.scrubber, settings.timeout_s, settings.max_body_bytes)
    # A replay takes as many samples as the cassette holds, and its date, from the cassette's provenance.
    provenance = {} if settings.recording else read_provenance(path)
    repeat = settings.repeat if settings.recording else recorded_samples(provenance)
    expect = case.expectations(settings.profile)
    planned = case.request_body(settings.profile)
    behaviour = [] if case.expect_error else behaviour_expectations(planned, expect, settings.checks)
    samples: list[Sample] = []
    outcomes: list[SurfaceOutcome] = []
    requests: list[dict[str, Any]] = []
    flows: list[list[dict[str, Any]]] = []
    scenario = scenario_for(case)
    for sample_number in range(1, repeat + 1):
        if settings.sharing is not None:
            env.share = settings.sharing.context(case.id, sample_number, surface_name)
        played = scenario.play(case, surface, env, settings, expect, path)
        samples.append(played.sample)
        outcomes.append(played.outcome)
        requests.append(played.request)
        flows.append(played.steps)
        if played.sample.verdict is Verdict.NOT_RECORDED:
            break  # a replay that ran out of recorded samples: the ones before it stand, the rest cannot be had
    combined = combine(samples, behaviour)
    outcome, request = outcomes[combined.decisive], requests[combined.decisive]
    result.verdict, result.reason, result.findings = combined.verdict, combined.reason, combined.findings
    result.samples, result.expectations = len(samples), combined.expectations
    if result.verdict is Verdict.NOT_RECORDED:
        result.reason += f"; {settings.key_hint()}, then record it again: {settings.record_command(case.id)}"
    documented_failure(result, case, settings)
    apply_gaps(result, settings.gaps, request)
    # Findings and reasons are built from decoded values (a joined stream, an SDK's message): scrubbed here, before
    # they reach a report, a JUnit file, a pytest message or the terminal.
    result.reason = settings.scrubber.text(result.reason)
    if len(result.reason) > 2000:  # a reason quotes server text; the cassette keeps it whole
        result.reason = result.reason[:2000] + f"... [{len(result.reason) - 2000} more characters]"
    result.findings = [Finding.from_dict(settings.scrubber.deep(_bounded(f.to_dict()))) for f in result.findings]
    result.exchange = outcome.exchange.to_dict() if outcome.exchange else None
    if flows[combined.decisive]:
        result.steps = settings.scrubber.deep(flows[combined.decisive])
    result.sdk = outcome.sdk
    if not settings.recording:
        result.recorded_at = provenance.get("recorded_at")
    answers = settings.sharing.notes_for(f"{surface_name}/{case.id}") if settings.sharing is not None else \
        provenance.get("answers")
    result.answered = summary(answers) if isinstance(answers, list) else None
    return result


def _bounded(finding: dict[str, Any], limit: int = 300) -> dict[str, Any]:
    """A finding's expected and seen values, message and pointer cut to a readable size: the cassette keeps the
    whole exchange, and a 10 MB value or JSON key (a pointer built from a server's key) must not be copied into
    every report file."""
    for key in ("pointer", "message"):
        text = finding.get(key)
        if isinstance(text, str) and len(text) > limit * 2:
            finding[key] = text[:limit * 2] + f"... [{len(text) - limit * 2} more characters]"
    for key in ("expected", "seen"):
        value = finding.get(key)
        text = value if isinstance(value, str) else None
        if text is None and isinstance(value, dict | list):
            dumped = json.dumps(value, default=str)
            text = dumped if len(dumped) > limit else None
        if text is not None and len(text) > limit:
            finding[key] = text[:limit] + f"... [{len(text) - limit} more characters]"
    return finding


def documented_failure(result: CaseResult, case: Case, settings: Settings) -> None:
    """The second oracle: a request the target's own documentation promises, rejected, is a FAIL against that
    documentation (with its link), whatever OpenAI's contract says of the parameter."""
    page = case.documented_by.get(settings.profile.gaps_target) or case.documented_by.get(settings.profile.name)
    if not page or result.verdict is not Verdict.UNSUPPORTED:
        return
    for param, value in case.request_body(settings.profile).items():
        promised = settings.profile.documents(param, value)
        if promised is False:  # the page documents this value for other models only: a refusal it announces
            result.reason += (f"; {settings.profile.name}'s documentation lists {param} {value!r} for other models "
                              f"than {settings.profile.chat_model} ({settings.profile.documented_source or page})")
            return
    message = (f"{settings.profile.name}'s own documentation ({page}) lists this request as supported, and the "
               f"server rejected it ({result.reason}); against OpenAI's contract alone it is UNSUPPORTED")
    result.findings.append(Finding("docs.rejected", "", message, Severity.FAILURE, expected="accepted",
                                   seen="rejected"))
    result.verdict, result.reason = Verdict.FAIL, f"rejected although documented at {page}: {result.reason}"


def recorded_samples(provenance: dict[str, Any]) -> int:
    recorded = provenance.get("repeat", 1)
    return recorded if isinstance(recorded, int) and recorded >= 1 else 1


def _relative(path: object) -> str:
    text = str(path)
    try:
        return os.path.relpath(text)
    except ValueError:
        return text
