"""Verdict classes, ordered from best to worst so that "worse" is a comparison, not a lookup table."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.model.findings import Finding


class Verdict(enum.StrEnum):
    PASS = "PASS"
    DEVIATION = "DEVIATION"
    UNSUPPORTED = "UNSUPPORTED"
    FLAKY = "FLAKY"  # a behaviour the model shows on some samples of a repeated case, not all: see --repeat
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOT_RECORDED = "NOT RECORDED"
    NOT_RUN = "NOT RUN"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def fails_run(self) -> bool:
        """FAIL and ERROR make a run (and its pytest test) fail; the others are information."""
        return self in (Verdict.FAIL, Verdict.ERROR)


# NOT RECORDED / NOT RUN say nothing about the server, so they rank beside PASS for regression purposes
# but are listed last in summaries.
_RANK = {
    Verdict.PASS: 0,
    Verdict.DEVIATION: 1,
    Verdict.UNSUPPORTED: 2,
    Verdict.FLAKY: 3,
    Verdict.FAIL: 4,
    Verdict.ERROR: 5,
    Verdict.NOT_RECORDED: 0,
    Verdict.NOT_RUN: 0,
}

DISPLAY_ORDER = [
    Verdict.PASS,
    Verdict.DEVIATION,
    Verdict.UNSUPPORTED,
    Verdict.FLAKY,
    Verdict.FAIL,
    Verdict.ERROR,
    Verdict.NOT_RECORDED,
    Verdict.NOT_RUN,
]


def verdict_for_findings(findings: Iterable[Finding], samples: int = 1) -> Verdict:
    """The verdict a set of findings earns: any failure is FAIL, any finding DEVIATION, none PASS.

    Over ``samples`` repeats of one case, a failure of a *behaviour* expectation (what the model chose) seen on
    some samples but not all is FLAKY: the feature works part of the time. A *contract* failure is FAIL however
    few samples show it. The one place this rule lives: judging an exchange, combining samples and setting aside
    known gaps all come here.
    """
    from conformance.model.findings import Severity

    findings = list(findings)
    failures = [f for f in findings if f.severity is Severity.FAILURE]
    if any(f.nature != "behaviour" for f in failures):
        return Verdict.FAIL
    failing_samples: dict[str, set[int]] = {}
    for f in failures:
        failing_samples.setdefault(f.check, set()).update(f.on_samples(samples))
    if any(len(seen) >= samples for seen in failing_samples.values()):
        return Verdict.FAIL
    if failing_samples:
        return Verdict.FLAKY
    return Verdict.DEVIATION if findings else Verdict.PASS
