"""Compare two report.json files, case by case and surface by surface: the regression gate.

A change is a regression when the verdict got worse (by ``Verdict.rank``), when a PASS stopped being PASS for any
reason (including NOT RECORDED: the gate can no longer vouch for it), or when a finding appeared that the
baseline did not have. It is an improvement when the verdict got better or findings disappeared with none new.
Findings are compared by (check id, JSON pointer): chunk numbers move between live recordings.

When both reports sent each case several times (``--repeat K``, K > 1 on both sides), that strict rule applies to
the *contract* only: a contract finding that appears, or a contract verdict that worsens, is a regression however
rarely it shows. *Behaviour* expectations (what a sampled model chose) are judged by their rates instead, pooled
over the surfaces (every surface sends the same request to the same model): a rate is called dropped (a
regression) or rose (an improvement) only when a one-sided Fisher exact test on the two pass counts rejects at a
family-wise 0.01 over all the rates compared (Holm-Bonferroni), so a comparison of many rates does not flap
either. Each rate is its own change, on surface "*", with the counts and p in its note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.findings import Finding
from conformance.model.stats import GATE_ALPHA, fisher_less, holm
from conformance.model.verdicts import Verdict, verdict_for_findings

REGRESSION, IMPROVEMENT, UNCHANGED, ADDED, REMOVED = "regression", "improvement", "unchanged", "added", "removed"


@dataclass
class Change:
    case: str
    surface: str
    kind: str
    before: str | None
    after: str | None
    new_findings: list[str] = field(default_factory=list)
    gone_findings: list[str] = field(default_factory=list)
    note: str = ""
    # How the call was made: "strict" (any new finding, any worse verdict), "contract" (strict on contract
    # expectations of sampled results) or "fisher" (a behaviour rate, pooled over surfaces).
    test: str = "strict"

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def load_report(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise UsageError(f"{path} is not JSON: give a report.json written by 'conformance run'") from None
    except RecursionError:
        raise UsageError(f"{path} nests too deeply to be a report.json written by 'conformance run'") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) or "schema_version" not in data \
            or not all(isinstance(r, dict) and isinstance(r.get("case"), str) and isinstance(r.get("surface"), str)
                       and isinstance(r.get("verdict"), str) for r in data["results"]):
        raise UsageError(f"{path} is not a conformance report.json (schema_version, and results each with a case, "
                         "a surface and a verdict)")
    return data


def _keys(result: dict[str, Any], *, known: bool | None = None, contract_only: bool = False) -> set[str]:
    return {f"{f['check']} {f['pointer'] or '/'}" for f in result.get("findings", [])
            if (known is None or bool(f.get("known_gap")) == known)
            and not (contract_only and f.get("nature") == "behaviour")}


def _sampled(result: dict[str, Any]) -> bool:
    return int(result.get("samples", 1)) > 1


def contract_verdict(result: dict[str, Any]) -> Verdict:
    """The verdict a sampled result earns on its contract expectations alone (what the gate judges strictly)."""
    verdict = Verdict(result["verdict"])
    if verdict not in (Verdict.PASS, Verdict.DEVIATION, Verdict.FLAKY, Verdict.FAIL):
        return verdict
    findings = [Finding.from_dict(f) for f in result.get("findings", []) if f.get("nature") != "behaviour"]
    return verdict_for_findings(findings, int(result.get("samples", 1)))


def classify(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Change:
    ref = after or before or {}
    change = Change(ref.get("case", "?"), ref.get("surface", "?"), UNCHANGED,
                    before["verdict"] if before else None, after["verdict"] if after else None)
    if before is None:
        change.kind = ADDED
        return change
    if after is None:
        change.kind = REMOVED
        return change
    sampled = _sampled(before) and _sampled(after)
    if sampled:
        change.test = "contract"
        old, new = contract_verdict(before), contract_verdict(after)
    else:
        old, new = Verdict(before["verdict"]), Verdict(after["verdict"])
    old_keys = _keys(before, known=False, contract_only=sampled)
    new_keys = _keys(after, known=False, contract_only=sampled)
    change.new_findings = sorted(new_keys - old_keys)
    change.gone_findings = sorted(old_keys - new_keys)
    closed = sorted(_keys(before, known=True) - _keys(after))
    if new.rank > old.rank or (old is Verdict.PASS and new is not Verdict.PASS) or change.new_findings:
        change.kind = REGRESSION
    elif new.rank < old.rank or change.gone_findings or closed:
        change.kind = IMPROVEMENT
    if closed:
        change.note = "known gap closed: remove it from the manifest (" + ", ".join(closed) + ")"
    return change


def diff_reports(baseline: dict[str, Any], current: dict[str, Any]) -> list[Change]:
    def index(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["case"], r["surface"]): r for r in report["results"]}

    old, new = index(baseline), index(current)
    keys = list(dict.fromkeys([*old, *new]))
    changes = [classify(old.get(k), new.get(k)) for k in keys]
    changes += behaviour_changes(old, new)
    for closed in current.get("gaps_closed", []):
        changes.append(Change(closed.get("case", "*"), closed.get("surface", "*"), IMPROVEMENT, None, None,
                              note=f"known gap closed: {closed['check']} no longer shows up; remove it from the "
                                   f"manifest ({closed.get('reason', '')})"))
    return changes


def _shared(result: dict[str, Any]) -> bool:
    """Every answer of this result was another surface's: its samples are not samples of their own."""
    answered = result.get("answered") or ""
    return answered.startswith("shared from") or ("shared from" in answered and "live" not in answered)


def behaviour_changes(old: dict[tuple[str, str], dict[str, Any]],
                      new: dict[tuple[str, str], dict[str, Any]]) -> list[Change]:
    """Behaviour rates of sampled results, pooled per case over the surfaces both reports sampled."""
    pooled: dict[tuple[str, str], list[int]] = {}
    for key in old.keys() & new.keys():
        before, after = old[key], new[key]
        if not (_sampled(before) and _sampled(after)):
            continue
        if _shared(before) or _shared(after):
            continue  # another surface's answers (sharing.py): pooled once, where they were answered live
        for check, then in before.get("expectations", {}).items():
            now = after.get("expectations", {}).get(check)
            if then.get("nature") != "behaviour" or now is None:
                continue
            counts = pooled.setdefault((key[0], check), [0, 0, 0, 0])
            counts[0] += then["passed"]
            counts[1] += then["samples"]
            counts[2] += now["passed"]
            counts[3] += now["samples"]
    keys = [key for key, counts in sorted(pooled.items()) if counts[1] and counts[3]]
    drops = [fisher_less(*pooled[key]) for key in keys]
    rises = [fisher_less(*pooled[key][2:], *pooled[key][:2]) for key in keys]
    dropped, rose = holm(drops), holm(rises)
    changes = []
    for n, (case, check) in enumerate(keys):
        passed_a, total_a, passed_b, total_b = pooled[(case, check)]
        kind = REGRESSION if dropped[n] else IMPROVEMENT if rose[n] else UNCHANGED
        p = rises[n] if rose[n] else drops[n] if dropped[n] else min(drops[n], rises[n])
        verdict = "significant" if kind != UNCHANGED else "not significant"
        changes.append(Change(case, "*", kind, f"{passed_a}/{total_a}", f"{passed_b}/{total_b}",
                              note=f"{check} held {passed_a}/{total_a} -> {passed_b}/{total_b} (all surfaces); "
                                   f"one-sided Fisher exact p = {p:.3g}, {verdict} at family-wise {GATE_ALPHA} "
                                   f"(Holm over {len(keys)} behaviour rates)",
                              test="fisher"))
    return changes


def has_regression(changes: list[Change]) -> bool:
    """A worse result, or a result of the baseline that is gone: the gate cannot vouch for what it no longer sees."""
    return any(c.kind in (REGRESSION, REMOVED) for c in changes)


def version_changes(baseline: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What changed in the clients and libraries between two reports ("openai 3.57.0 -> 3.63.0"): a replay with
    other versions rewrites the version lines and the client headers of every exchange, not the verdicts, and
    the gate says which of the two it sees."""
    def versions(report: dict[str, Any]) -> dict[str, Any]:
        run: dict[str, Any] = report["run"] if isinstance(report.get("run"), dict) else {}
        found = dict(run.get("versions") or {}) if isinstance(run.get("versions"), dict) else {}
        if run.get("python"):
            found["Python"] = run["python"]
        return found

    old, new = versions(baseline), versions(current)
    return [f"{name} {old.get(name) or '(none)'} -> {new.get(name) or '(none)'}"
            for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)]
