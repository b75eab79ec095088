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

from conformance.model.verdicts import Verdict

# Findings whose check says a client library could not use the answer (it raised, or assembled something else).
SDK_BREAKING_PREFIX = "sdk."


def _gated(result: dict[str, Any]) -> str:
    return result.get("gated_verdict") or result["verdict"]


# What a client suffers, worst first: (rank, heading, what the user's code sees). A problem takes the first harm
# whose test matches it (its case id, its check id, its verdict).
HARMS: tuple[tuple[str, str, str], ...] = (
    ("conversation", "A conversation cannot continue",
     "the next turn is refused or lost: an agent loop or a chat stops mid-way"),
    ("tools", "Tool calls are lost or unusable",
     "the tool call is missing, unparseable or unfinished: the function is never run, or run with wrong arguments"),
    ("refused", "A request is refused for a parameter clients send",
     "the whole request fails with a 4xx: the SDK raises (BadRequestError in Python, APIError in Node.js)"),
    ("client", "The client library cannot read the answer",
     "the SDK raises or assembles something else than the server sent"),
    ("text", "No text, or the wrong text",
     "the answer's text is empty, cut, or not what was asked (stop, max_tokens, response_format)"),
    ("no-answer", "No usable answer",
     "an error instead of an answer: a 5xx, a broken stream, a body no client can read"),
    ("accounting", "Wrong token accounting",
     "usage is missing, repeated or does not add up: clients that bill or budget on it count wrong"),
    ("other", "Other failures", "a documented feature does not work as documented"),
)
_HARM_RANK = {key: n for n, (key, _, _) in enumerate(HARMS)}


# Findings that break real clients although the answer is readable (a DEVIATION by the contract): agent loops run
# tools while finish_reason is "tool_calls" and stop at "stop" (microsoft/autogen#4878, BerriAI/litellm#10485).
CLIENT_BREAKING = {"tools.finish_reason": "agent loops stop: finish_reason says the answer is done while it asks "
                                          "for tool calls"}


def _continues_a_conversation(case: str) -> bool:
    """A case whose request carries a history with tool results (a fixed transcript): its refusal is a next turn
    refused, which the conversation cases explain (flow.*), not a parameter."""
    from conformance.catalogue import case_by_id

    try:
        messages = case_by_id(case).body.get("messages") or []
    except KeyError:
        return False
    return any(isinstance(m, dict) and m.get("role") == "tool" for m in messages)


def harm_of(case: str, check: str | None, verdict: str) -> str:
    """Which harm a problem does to a client (see HARMS)."""
    check = check or ""
    if case.startswith("flow.") or check.startswith("flow.") or _continues_a_conversation(case):
        return "conversation"
    if check.startswith(("tools.", "stream.tool_calls")) or (case.startswith("tools.") and not check):
        return "tools"
    if verdict == Verdict.UNSUPPORTED.value:
        return "refused"
    if check.startswith(SDK_BREAKING_PREFIX):
        return "client"
    if check.startswith(("usage.", "stream.usage", "chat.usage", "embeddings.usage")):
        return "accounting"
    if check in ("chat.message.content", "chat.stop.honoured", "chat.max_tokens.honoured", "chat.response_format",
                 "chat.finish_reason.length", "json.strict") or check.startswith("structured."):
        return "text"
    if verdict == Verdict.ERROR.value:
        return "no-answer"
    return "other"


def _refused_parameter(result: dict[str, Any]) -> bool:
    """An UNSUPPORTED that breaks clients: a parameter or value of OpenAI's that clients send as a matter of course
    (the accepted-parameter cases, and the core features), not an invalid value the server is right to refuse."""
    case = result["case"]
    return result["verdict"] == Verdict.UNSUPPORTED.value and not case.startswith("params.invalid.") and \
        (result.get("tier", "core") == "core" or case.startswith("params.accepted."))


def _refused_turn(result: dict[str, Any]) -> bool:
    """An UNSUPPORTED next turn of a fixed transcript (see _continues_a_conversation)."""
    return result["verdict"] == Verdict.UNSUPPORTED.value and _continues_a_conversation(result["case"])


def what_breaks(report: dict[str, Any]) -> dict[str, Any]:
    """What breaks a client, grouped by harm and ordered worst first (a conversation that cannot continue before a
    wrong count): FAIL and ERROR verdicts, SDK-breaking findings and refused parameters clients send, each with
    what the user's code sees and the surfaces it hits; then counts of what else stands out."""
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        reasons: list[tuple[str, str, str, bool]] = []  # (what, why, harm, set aside as a known gap)
        verdict = result["verdict"]
        failures = [f for f in result.get("findings", []) if f.get("severity") == "failure"]
        only_sdk = bool(failures) and all(f["check"].startswith(SDK_BREAKING_PREFIX) for f in failures)
        if verdict == Verdict.FAIL.value and not only_sdk:  # an SDK's failure is said as what it breaks, below
            finding = _failing_finding(result)
            why = (finding or {}).get("message") or result.get("reason", "")
            reasons.append(("does not work", why, harm_of(result["case"], (finding or {}).get("check"), verdict),
                            _gated(result) != Verdict.FAIL.value))
        if verdict == Verdict.ERROR.value:  # no usable answer: the client got nothing it could use
            reasons.append(("gives no usable answer (ERROR)", result.get("reason", ""),
                            harm_of(result["case"], None, verdict), _gated(result) != Verdict.ERROR.value))
        if _refused_turn(result):
            reasons.append(("the next turn is refused (UNSUPPORTED; the conversation cases say why)",
                            result.get("reason", ""), "conversation", bool(result.get("known_gap"))))
        elif _refused_parameter(result):
            reasons.append(("is refused (UNSUPPORTED)", result.get("reason", ""), "refused",
                            bool(result.get("known_gap"))))
        for finding in result.get("findings", []):
            if finding["check"].startswith(SDK_BREAKING_PREFIX):
                reasons.append((f"breaks the client ({finding['check']})", finding.get("message") or "",
                                harm_of(result["case"], finding["check"], verdict), bool(finding.get("known_gap"))))
            elif finding["check"] in CLIENT_BREAKING:
                reasons.append((f"breaks clients ({finding['check']}: {CLIENT_BREAKING[finding['check']]})",
                                finding.get("message") or "", harm_of(result["case"], finding["check"], verdict),
                                bool(finding.get("known_gap"))))
        for what, why, harm, known in reasons:
            case = items.setdefault(harm, {}).setdefault(result["case"], {
                "case": result["case"], "title": result.get("title", ""), "section": result.get("section", ""),
                "problems": {}})
            problem = case["problems"].setdefault((what, _short(why)), {
                "what": what, "why": _short(why), "surfaces": [], "known_gap": True})
            if result["surface"] not in problem["surfaces"]:
                problem["surfaces"].append(result["surface"])
            problem["known_gap"] = problem["known_gap"] and known
    groups = [{"harm": key, "feature": heading, "sees": sees,
               "cases": [{**c, "problems": list(c["problems"].values())} for c in items[key].values()]}
              for key, heading, sees in HARMS if key in items]
    counts = Counter(r["verdict"] for r in report["results"])
    return {"groups": groups, "breaking": sum(len(g["cases"]) for g in groups),
            "unsupported": sorted({r["case"] for r in report["results"] if r["verdict"] == Verdict.UNSUPPORTED
                                   and not _refused_parameter(r) and not _refused_turn(r)}),
            "errors": sorted({r["case"] for r in report["results"] if r["verdict"] == Verdict.ERROR}),
            "deviations": counts.get(Verdict.DEVIATION.value, 0), "results": len(report["results"]),
            "judged": sum(counts.get(v.value, 0) for v in Verdict if v not in (Verdict.NOT_RECORDED, Verdict.NOT_RUN)),
            "answered": sum(counts.get(v.value, 0) for v in (Verdict.PASS, Verdict.DEVIATION, Verdict.FLAKY,
                                                              Verdict.FAIL))}


def _failing_finding(result: dict[str, Any]) -> dict[str, Any] | None:
    """The finding that makes a FAIL (the first failure that is not an SDK's), if any."""
    failures = [f for f in result.get("findings", []) if f.get("severity") == "failure"]
    return next((f for f in failures if not f["check"].startswith(SDK_BREAKING_PREFIX)), None)


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
