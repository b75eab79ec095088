"""Compare two report.json files, case by case and surface by surface: the regression gate.

A change is a regression when the verdict got worse (by ``Verdict.rank``), when a PASS stopped being PASS for any
reason (including NOT RECORDED: the gate can no longer vouch for it), or when a finding appeared that the
baseline did not have. It is an improvement when the verdict got better or findings disappeared with none new.
Findings are compared by (check id, JSON pointer): chunk numbers move between live recordings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.verdicts import Verdict

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

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def load_report(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise UsageError(f"{path} is not JSON: give a report.json written by 'conformance run'") from None
    if not isinstance(data, dict) or "results" not in data or "schema_version" not in data:
        raise UsageError(f"{path} is not a conformance report.json (no schema_version/results)")
    return data


def _keys(result: dict[str, Any], *, known: bool | None = None) -> set[str]:
    return {f"{f['check']} {f['pointer'] or '/'}" for f in result.get("findings", [])
            if known is None or bool(f.get("known_gap")) == known}


def classify(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Change:
    ref = after or before or {}
    change = Change(ref.get("case", "?"), ref.get("surface", "?"), UNCHANGED,
                    before and before["verdict"], after and after["verdict"])
    if before is None:
        change.kind = ADDED
        return change
    if after is None:
        change.kind = REMOVED
        return change
    old, new = Verdict(before["verdict"]), Verdict(after["verdict"])
    old_keys, new_keys = _keys(before, known=False), _keys(after, known=False)
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
    for closed in current.get("gaps_closed", []):
        changes.append(Change(closed.get("case", "*"), closed.get("surface", "*"), IMPROVEMENT, None, None,
                              note=f"known gap closed: {closed['check']} no longer shows up; remove it from the "
                                   f"manifest ({closed.get('reason', '')})"))
    return changes


def has_regression(changes: list[Change]) -> bool:
    return any(c.kind == REGRESSION for c in changes)
