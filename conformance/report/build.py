"""Assemble report.json's content from the results of one run."""

from __future__ import annotations

import platform
from collections import Counter
from importlib import metadata
from typing import Any

from conformance import __version__
from conformance.cassettes import now_iso, read_provenance
from conformance.catalogue import CASES, FEATURES
from conformance.gaps import closed_gaps
from conformance.settings import Settings
from conformance.spec import OPENAI_SPEC_COMMIT, OPENAI_SPEC_DATE, OPENAI_SPEC_LABEL, OPENAI_SPEC_REPO
from conformance.surfaces import SURFACES
from conformance.verdicts import DISPLAY_ORDER

REPORT_SCHEMA_VERSION = 1
_CASE_ORDER = {case.id: n for n, case in enumerate(CASES)}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def build_report(results: list[dict[str, Any]], settings: Settings, started: str | None = None) -> dict[str, Any]:
    surface_order = list(SURFACES)
    results = sorted(results, key=lambda r: (_CASE_ORDER.get(r["case"], 999), surface_order.index(r["surface"])
                                             if r["surface"] in surface_order else 99))
    for result in results:
        if not result.get("recorded_at") and result.get("cassette"):
            result["recorded_at"] = read_provenance(result["cassette"]).get("recorded_at")
    counts = Counter(r["verdict"] for r in results)
    known = sum(1 for r in results if r.get("known_gap") or any(f.get("known_gap") for f in r["findings"]))
    surfaces = [s for s in surface_order if any(r["surface"] == s for r in results)]
    recorded = sorted({r["recorded_at"] for r in results if r.get("recorded_at")})
    replay = not settings.recording
    # A replay reproduces the recorded run: its dates are the recording's, and it has no timings of its own, so
    # that replaying committed cassettes rewrites the committed report byte for byte.
    if replay:
        started = finished = recorded[-1] if recorded else None
        duration = None
    else:
        started, finished = started or now_iso(), now_iso()
        duration = round(sum(r.get("duration_s") or 0.0 for r in results), 3)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "suite": {"name": "openai-conformance", "version": __version__},
        "spec": {"repo": OPENAI_SPEC_REPO, "commit": OPENAI_SPEC_COMMIT, "date": OPENAI_SPEC_DATE,
                 "label": OPENAI_SPEC_LABEL},
        "target": settings.profile.public(),
        "run": {
            "started": started,
            "finished": finished,
            "record_mode": settings.record_mode,
            "recorded": {"first": recorded[0], "last": recorded[-1]} if recorded else None,
            "python": platform.python_version(),
            "versions": {p: _version(p) for p in ("openai", "httpx", "vcrpy", "jsonschema", "pytest")},
            "duration_s": duration,
        },
        "surfaces": [{"name": s, "label": SURFACES[s].label} for s in surfaces],
        "features": [f for f in FEATURES if any(r["feature"] == f for r in results)],
        "summary": {v.value: counts.get(v.value, 0) for v in DISPLAY_ORDER},
        "gated_summary": {v.value: sum(1 for r in results if r.get("gated_verdict", r["verdict"]) == v.value)
                          for v in DISPLAY_ORDER},
        "known_gaps": {"manifest": settings.gaps.source or None, "entries": len(settings.gaps.gaps),
                       "results_with_known_gaps": known},
        "gaps_closed": closed_gaps(settings.gaps, results),
        "results": results,
    }
