"""Run one case on one surface and judge it: the unit of work behind each pytest test."""

from __future__ import annotations

import time

from conformance.analysis import CaseResult, judge
from conformance.cassettes import cassette_path, read_provenance
from conformance.catalogue.model import Case
from conformance.gaps import apply as apply_gaps
from conformance.settings import Settings
from conformance.surfaces import SURFACES, RunEnv
from conformance.verdicts import Verdict


def run_case(case: Case, surface_name: str, settings: Settings) -> CaseResult:
    surface = SURFACES[surface_name]
    path = cassette_path(settings.cassette_dir, surface_name, case.id)
    result = CaseResult(case=case.id, surface=surface_name, feature=case.feature, title=case.title,
                        section=case.section, verdict=Verdict.PASS, cassette=_relative(path))
    unavailable = surface.unavailable()
    if unavailable:
        result.verdict, result.reason = Verdict.NOT_RUN, unavailable
        return result
    if not settings.recording and not path.is_file():
        result.verdict = Verdict.NOT_RECORDED
        result.reason = f"no cassette {result.cassette}; record it with: {settings.record_command(case.id)}"
        return result
    env = RunEnv(settings.profile, settings.api_key, settings.scrubber, settings.timeout_s)
    request = case.request_body(settings.profile)
    started = time.perf_counter()
    outcome = surface.run(case, env)
    result.duration_s = time.perf_counter() - started
    result.verdict, result.reason, result.findings = judge(case, outcome, request, case.expectations(settings.profile))
    if result.verdict is Verdict.NOT_RECORDED:
        result.reason += f"; record it again with: {settings.record_command(case.id)}"
    apply_gaps(result, settings.gaps)
    result.exchange = outcome.exchange.to_dict() if outcome.exchange else None
    result.sdk = outcome.sdk
    if not settings.recording:
        result.recorded_at = read_provenance(path).get("recorded_at")
    return result


def _relative(path: object) -> str:
    import os

    text = str(path)
    try:
        return os.path.relpath(text)
    except ValueError:
        return text
