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

from conformance.verdicts import Verdict

# Findings whose check says a client library could not use the answer (it raised, or assembled something else).
SDK_BREAKING_PREFIX = "sdk."


def _gated(result: dict[str, Any]) -> str:
    return result.get("gated_verdict") or result["verdict"]


def what_breaks(report: dict[str, Any]) -> dict[str, Any]:
    """Per feature (in the report's order), the cases that break a client: FAIL and ERROR verdicts and SDK-breaking
    findings, each with the surfaces it hits and why; then counts of what else stands out."""
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        reasons: list[tuple[str, str, bool]] = []  # (what, why, set aside as a known gap)
        failure = _first_failure(result) if result["verdict"] == Verdict.FAIL.value else None
        if failure is not None:
            reasons.append(("does not work", failure, _gated(result) != Verdict.FAIL.value))
        if result["verdict"] == Verdict.ERROR.value:  # no usable answer: the client got nothing it could use
            reasons.append(("gives no usable answer (ERROR)", result.get("reason", ""),
                            _gated(result) != Verdict.ERROR.value))
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
            "deviations": counts.get(Verdict.DEVIATION.value, 0), "results": len(report["results"]),
            "judged": sum(counts.get(v.value, 0) for v in Verdict if v not in (Verdict.NOT_RECORDED, Verdict.NOT_RUN)),
            "answered": sum(counts.get(v.value, 0) for v in (Verdict.PASS, Verdict.DEVIATION, Verdict.FLAKY,
                                                              Verdict.FAIL))}


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


def tally(report: dict[str, Any]) -> dict[str, int]:
    """The honest counts: what passed as it is (a known gap is not a pass), what fails or errs outside the known
    gaps (new), what deviates outside them, what the known gaps cover, and what was not judged."""
    results = report["results"]
    bad = (Verdict.FAIL.value, Verdict.ERROR.value)
    not_judged = (Verdict.NOT_RECORDED.value, Verdict.NOT_RUN.value)
    return {
        "results": len(results),
        "pass": sum(1 for r in results if r["verdict"] == Verdict.PASS.value),
        "new_failures": sum(1 for r in results if _gated(r) in bad),
        "new_deviations": sum(1 for r in results if _gated(r) == Verdict.DEVIATION.value and not r.get("known_gap")),
        "known": sum(1 for r in results if r["verdict"] != Verdict.PASS.value and r["verdict"] not in not_judged
                     and (_gated(r) != r["verdict"] or any(f.get("known_gap") for f in r.get("findings", [])))),
        "known_failures": sum(1 for r in results if r["verdict"] in bad and _gated(r) not in bad),
        "unsupported": sum(1 for r in results if _gated(r) == Verdict.UNSUPPORTED.value),
        "not_judged": sum(1 for r in results if r["verdict"] in not_judged),
    }


def headline(report: dict[str, Any]) -> str:
    """One line a reader can trust: "20 of 376 pass; 0 new failures, 0 new deviations; 356 known gaps"."""
    t = tally(report)
    parts = [f"{t['pass']} of {t['results']} pass", f"{t['new_failures']} new failure(s) (FAIL/ERROR)",
             f"{t['new_deviations']} new deviation(s)"]
    if t["known"]:
        parts.append(f"{t['known']} known gap(s) ({t['known_failures']} of them failures)")
    if t["unsupported"]:
        parts.append(f"{t['unsupported']} unsupported")
    if t["not_judged"]:
        parts.append(f"{t['not_judged']} not judged (not recorded or not run)")
    return "; ".join(parts)


def badge(report: dict[str, Any]) -> dict[str, Any]:
    """shields.io's endpoint format (https://shields.io/badges/endpoint-badge): the results that pass as they are,
    and the new failures; red with a new failure, orange with known failures, yellow-green with deviations."""
    t = tally(report)
    colour = ("red" if t["new_failures"] else "orange" if t["known_failures"] else
              "yellowgreen" if t["pass"] < t["results"] - t["not_judged"] else
              "brightgreen" if t["pass"] else "lightgrey")
    return {"schemaVersion": 1, "label": f"OpenAI compatibility ({report['target']['name']})",
            "message": f"{t['pass']}/{t['results']} pass, {t['new_failures']} new failures", "color": colour}


def summary_line(report: dict[str, Any]) -> str:
    """The headline in one line (what a CI job prints and the GitHub Action outputs)."""
    return headline(report) if report["results"] else "no results"


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
