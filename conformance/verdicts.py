"""Verdict classes, ordered from best to worst so that "worse" is a comparison, not a lookup table."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.findings import Finding


class Verdict(enum.StrEnum):
    PASS = "PASS"
    DEVIATION = "DEVIATION"
    UNSUPPORTED = "UNSUPPORTED"
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
    Verdict.FAIL: 3,
    Verdict.ERROR: 4,
    Verdict.NOT_RECORDED: 0,
    Verdict.NOT_RUN: 0,
}

DISPLAY_ORDER = [
    Verdict.PASS,
    Verdict.DEVIATION,
    Verdict.UNSUPPORTED,
    Verdict.FAIL,
    Verdict.ERROR,
    Verdict.NOT_RECORDED,
    Verdict.NOT_RUN,
]


def verdict_for_findings(findings: Iterable[Finding]) -> Verdict:
    """The verdict a set of findings earns: any failure is FAIL, any finding DEVIATION, none PASS.

    The one place this rule lives: judging an exchange and setting aside known gaps both come here.
    """
    from conformance.findings import Severity

    findings = list(findings)
    if any(f.severity is Severity.FAILURE for f in findings):
        return Verdict.FAIL
    return Verdict.DEVIATION if findings else Verdict.PASS
