"""Assemble report.json's content from the results of one run."""

from __future__ import annotations

import platform
from collections import Counter
from typing import Any

from conformance import __version__
from conformance.cassettes import read_provenance
from conformance.catalogue import CASES, FEATURES
from conformance.judge.analysis import CaseResult
from conformance.judge.gaps import closed_gaps, gap_statuses
from conformance.model.spec import OPENAI_SPEC_COMMIT, OPENAI_SPEC_DATE, OPENAI_SPEC_LABEL, OPENAI_SPEC_REPO
from conformance.model.verdicts import DISPLAY_ORDER
from conformance.run.settings import Settings
from conformance.surfaces import SURFACES
from conformance.surfaces.versions import client_versions

REPORT_SCHEMA_VERSION = 2  # 2: no wall clock, mode or timings (a recording's report is its replay's)
_CASE_ORDER = {case.id: n for n, case in enumerate(CASES)}


def build_report(typed: list[CaseResult], settings: Settings) -> dict[str, Any]:
    results = [r.to_dict() for r in typed]  # the report holds results in their JSON form
    surface_order = list(SURFACES)
    results = sorted(results, key=lambda r: (_CASE_ORDER.get(r["case"], 999), surface_order.index(r["surface"])
                                             if r["surface"] in surface_order else 99))
    for result in results:
        if not result.get("recorded_at") and result.get("cassette"):
            result["recorded_at"] = read_provenance(result["cassette"]).get("recorded_at")
    counts = Counter(r["verdict"] for r in results)
    closed = closed_gaps(settings.gaps, results, selected=settings.checks)
    known = sum(1 for r in results if r.get("known_gap") or any(f.get("known_gap") for f in r["findings"]))
    surfaces = [s for s in surface_order if any(r["surface"] == s for r in results)]
    recorded = sorted({r["recorded_at"] for r in results if r.get("recorded_at")})
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "suite": {"name": "openai-conformance", "version": __version__},
        "spec": {"repo": OPENAI_SPEC_REPO, "commit": OPENAI_SPEC_COMMIT, "date": OPENAI_SPEC_DATE,
                 "label": OPENAI_SPEC_LABEL},
        # A profile is the user's text: a key pasted into its description or key command stays out of reports.
        "target": settings.scrubber.deep(settings.profile.public()),
        # Only what the recording and the installed clients decide: a live run and its replay write the same report
        # (the wall clock, the mode and the timings are a live run's alone and are printed, not written).
        "run": {
            "recorded": {"first": recorded[0], "last": recorded[-1]} if recorded else None,
            "python": platform.python_version(),
            "versions": client_versions(),
        },
        "surfaces": [{"name": s, "label": SURFACES[s].label} for s in surfaces],
        "features": [f for f in FEATURES if any(r["feature"] == f for r in results)],
        "summary": {v.value: counts.get(v.value, 0) for v in DISPLAY_ORDER},
        "gated_summary": {v.value: sum(1 for r in results if r.get("gated_verdict", r["verdict"]) == v.value)
                          for v in DISPLAY_ORDER},
        "known_gaps": {"manifest": settings.gaps.source or None, "entries": len(settings.gaps.gaps),
                       "results_with_known_gaps": known, "checked": settings.gaps.checked or None,
                       "list": gap_statuses(settings.gaps, results, closed),
                       # Gaps known from public reports (every source a link): what a user of that provider should
                       # know first, before anything is recorded with their own key.
                       "public": bool(settings.gaps.gaps) and all(
                           g.source.startswith(("https://", "http://")) for g in settings.gaps.gaps)},
        "gaps_closed": closed,
        "results": results,
    }
