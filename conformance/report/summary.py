"""What a reader needs first: what breaks for the people who build on this server, in words, before the matrix;
a shields.io badge; the one line a CI job prints.

A reader of a compatibility report wants to know what will break their client, not how many cells are green:
the FAILs (a feature does not work) and the findings where an SDK could not use the answer come first, grouped by
feature, each with the surfaces it hits. The rest (rejected parameters, errors, contract departures) follows as
counts.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from conformance.verdicts import DISPLAY_ORDER, Verdict

# Findings whose check says a client library could not use the answer (it raised, or assembled something else).
SDK_BREAKING_PREFIX = "sdk."
BADGE_COLOURS = {
    Verdict.PASS: "brightgreen", Verdict.DEVIATION: "yellowgreen", Verdict.UNSUPPORTED: "yellow",
    Verdict.FLAKY: "orange", Verdict.FAIL: "red", Verdict.ERROR: "red",
}


def _gated(result: dict[str, Any]) -> str:
    return result.get("gated_verdict") or result["verdict"]


def what_breaks(report: dict[str, Any]) -> dict[str, Any]:
    """Per feature (in the report's order), the cases that break a client: FAIL verdicts and SDK-breaking findings,
    each with the surfaces it hits and why; then counts of what else stands out."""
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        reasons: list[tuple[str, str, bool]] = []  # (what, why, set aside as a known gap)
        failure = _first_failure(result) if result["verdict"] == Verdict.FAIL.value else None
        if failure is not None:
            reasons.append(("does not work", failure, _gated(result) != Verdict.FAIL.value))
        for finding in result.get("findings", []):
            if finding["check"].startswith(SDK_BREAKING_PREFIX):
                reasons.append((f"breaks the client ({finding['check']})", finding.get("message") or "",
                                bool(finding.get("known_gap"))))
        for what, why, known in reasons:
            case = items.setdefault(result["feature"], {}).setdefault(result["case"], {
                "case": result["case"], "title": result.get("title", ""), "section": result.get("section", ""),
                "problems": {}})
            problem = case["problems"].setdefault((what, _short(why)), {
                "what": what, "why": _short(why), "surfaces": [], "known_gap": True})
            if result["surface"] not in problem["surfaces"]:
                problem["surfaces"].append(result["surface"])
            problem["known_gap"] = problem["known_gap"] and known
    features = [f for f in report.get("features", []) if f in items] + sorted(set(items) - set(report.get(
        "features", [])))
    groups = [{"feature": f, "cases": [{**c, "problems": list(c["problems"].values())} for c in items[f].values()]}
              for f in features]
    counts = Counter(r["verdict"] for r in report["results"])
    return {"groups": groups, "breaking": sum(len(g["cases"]) for g in groups),
            "unsupported": sorted({r["case"] for r in report["results"] if r["verdict"] == Verdict.UNSUPPORTED}),
            "errors": sorted({r["case"] for r in report["results"] if r["verdict"] == Verdict.ERROR}),
            "deviations": counts.get(Verdict.DEVIATION.value, 0), "results": len(report["results"])}


def _first_failure(result: dict[str, Any]) -> str | None:
    """Why the feature does not work, or None when an SDK-breaking finding is the whole reason (it says so)."""
    failures = [f for f in result.get("findings", []) if f.get("severity") == "failure"]
    for finding in failures:
        if not finding["check"].startswith(SDK_BREAKING_PREFIX):
            return finding.get("message") or result.get("reason", "")
    return None if failures else result.get("reason", "")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge(report: dict[str, Any]) -> dict[str, Any]:
    """shields.io's endpoint format: the count of gated PASS over all results, coloured by the worst gated
    verdict (https://shields.io/badges/endpoint-badge)."""
    verdicts = [Verdict(_gated(r)) for r in report["results"]]
    judged = [v for v in verdicts if v not in (Verdict.NOT_RECORDED, Verdict.NOT_RUN)]
    worst = max(judged, key=lambda v: v.rank, default=None)
    passed = sum(1 for v in verdicts if v is Verdict.PASS)
    return {"schemaVersion": 1, "label": f"OpenAI compatibility ({report['target']['name']})",
            "message": f"{passed}/{len(verdicts)} pass", "color": BADGE_COLOURS.get(worst, "lightgrey")}


def summary_line(report: dict[str, Any]) -> str:
    """The gated verdict counts in one line (what a CI job prints and the GitHub Action outputs)."""
    counts = report.get("gated_summary") or report["summary"]
    return ", ".join(f"{v.value} {counts[v.value]}" for v in DISPLAY_ORDER if counts.get(v.value)) or "no results"


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.report.summary REPORT``: print the summary line (used by the GitHub Action)."""
    from conformance.report.diff import load_report

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m conformance.report.summary REPORT.json", file=sys.stderr)
        return 2
    print(summary_line(load_report(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
