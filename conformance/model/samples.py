"""Several samples of one case (``--repeat K``) folded into one result: a verdict, findings that say on which
samples they showed, and a pass rate with its 95 % interval for every expectation that can vary.

Contract expectations are judged strictly: a contract finding on any sample counts, and says on which. Behaviour
expectations (what the model chose) get rates; one that fails on some samples but not all makes the case FLAKY
(see ``verdicts.verdict_for_findings``). With K = 1 this is the identity: one sample's verdict, reason and
findings, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from conformance.model.findings import Finding
from conformance.model.stats import wilson
from conformance.model.verdicts import Verdict, verdict_for_findings

# Verdicts that come from what happened on the wire (no answer, a refusal, no cassette), not from findings.
_WIRE_VERDICTS = (Verdict.ERROR, Verdict.UNSUPPORTED, Verdict.NOT_RECORDED, Verdict.NOT_RUN)


@dataclass
class Sample:
    verdict: Verdict
    reason: str
    findings: list[Finding]


@dataclass
class Combined:
    verdict: Verdict
    reason: str
    findings: list[Finding]
    decisive: int  # the sample (0-based) whose exchange the report shows: the first of the worst
    expectations: dict[str, dict[str, Any]]


def combine(samples: list[Sample], behaviour: list[str]) -> Combined:
    total = len(samples)
    if total == 1:
        only = samples[0]
        return Combined(only.verdict, only.reason, only.findings, 0, _expectations(samples, behaviour))
    findings = _merged_findings(samples)
    wire = [s for s in samples if s.verdict in _WIRE_VERDICTS]
    by_findings = verdict_for_findings(findings, total)
    worst_wire = max(wire, key=lambda s: s.verdict.rank) if wire else None
    if worst_wire is not None and worst_wire.verdict.rank >= by_findings.rank:
        verdict = worst_wire.verdict
        decisive = samples.index(worst_wire)
        reason = worst_wire.reason
        alike = sum(1 for s in samples if s.verdict is verdict)
        if alike < total:
            reason += f" (on {alike} of {total} samples)"
    else:
        verdict = by_findings
        decisive = _first_sample_with(findings, verdict, total)
        reason = _reason(verdict, findings, samples, total)
    return Combined(verdict, reason, findings, decisive, _expectations(samples, behaviour))


def _merged_findings(samples: list[Sample]) -> list[Finding]:
    """One finding per (check, pointer), with the samples (1-based) it showed on (None when on all) and the chunk
    number of the first: the same departure sits at another chunk in a stream of another length."""
    merged: dict[tuple[str, int | None, str], tuple[Finding, list[int]]] = {}
    for number, sample in enumerate(samples, start=1):
        for f in sample.findings:
            key = (f.check, f.step, f.pointer)
            if key not in merged:
                merged[key] = (f, [])
            if number not in merged[key][1]:
                merged[key][1].append(number)
    total = len(samples)
    return [replace(f, samples=None if len(seen) == total else tuple(seen)) for f, seen in merged.values()]


def _first_sample_with(findings: list[Finding], verdict: Verdict, total: int) -> int:
    if verdict is Verdict.PASS or not findings:
        return 0
    relevant = [f for f in findings if verdict_for_findings([f], total).rank >= verdict.rank] or findings
    return min(min(f.on_samples(total)) for f in relevant) - 1


def _reason(verdict: Verdict, findings: list[Finding], samples: list[Sample], total: int) -> str:
    if verdict is Verdict.PASS:
        return ""
    if verdict is Verdict.FLAKY:
        rates = []
        for check in dict.fromkeys(f.check for f in findings if f.nature == "behaviour"):
            failed = set().union(*(f.on_samples(total) for f in findings if f.check == check))
            rates.append(f"{check} held on {total - len(failed)}/{total} samples")
        return "behaviour varies: " + "; ".join(rates)
    if verdict is Verdict.FAIL:
        # The finding that makes it a FAIL: a contract failure, or a behaviour failing on every sample.
        decisive = next((f for f in findings if verdict_for_findings([f], total) is Verdict.FAIL), None)
        if decisive is None:
            # A behaviour that failed on every sample, but not at one place (a conversation: at step 1 on some
            # samples, at step 2 on the others): say so of the check, not of one of its findings.
            check = next(c for c in dict.fromkeys(f.check for f in findings)
                         if verdict_for_findings([f for f in findings if f.check == c], total) is Verdict.FAIL)
            first = next(f for f in findings if f.check == check)
            return f"{check} failed on every sample, at different places: {first.message}"
        seen = len(decisive.on_samples(total))
        return decisive.message + (f" (on {seen} of {total} samples)" if seen < total else "")
    checks = sorted({f.check for f in findings})
    return f"{len(findings)} finding(s): {', '.join(checks[:4])}"


def _expectations(samples: list[Sample], behaviour: list[str]) -> dict[str, dict[str, Any]]:
    """Pass counts for the case's behaviour expectations and for every check that showed on any sample: a check
    not listed held on every sample. Samples without a judged answer (an ERROR, a refusal) observed nothing and
    are left out of the counts."""
    judged = [(n, s) for n, s in enumerate(samples, start=1) if s.verdict not in _WIRE_VERDICTS]
    total = len(judged)
    failed: dict[str, set[int]] = {check: set() for check in behaviour}
    natures: dict[str, str] = {check: "behaviour" for check in behaviour}
    for number, sample in judged:
        for f in sample.findings:
            failed.setdefault(f.check, set()).add(number)
            natures.setdefault(f.check, f.nature)
    out = {}
    for check in sorted(failed):
        passed = total - len(failed[check])
        low, high = wilson(passed, total)
        out[check] = {"nature": natures[check], "passed": passed, "samples": total,
                      "wilson95": [round(low, 3), round(high, 3)]}
    return out
