"""Several targets side by side: one row per case, one column per target, like other protocols' published matrices.

A cell shows the target's worst verdict for the case over its surfaces (a case works on a target only if it
works on every surface), with the per-surface verdicts beside it, and, for every target after the first, the
checks whose findings it adds to or removes from the first target's: with a proxy in front of a server (LiteLLM
before llama.cpp), that is what the translation layer adds and removes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.catalogue import CASES
from conformance.model.errors import UsageError
from conformance.model.verdicts import Verdict
from conformance.output import atomic
from conformance.report.write import template_environment

_ORDER = {case.id: n for n, case in enumerate(CASES)}


def cross_target(reports: list[dict[str, Any]]) -> dict[str, Any]:
    names = [r["target"]["name"] for r in reports]
    if len(set(names)) != len(names):
        raise UsageError(f"two reports are for the same target ({', '.join(names)}): give one report per target")
    rows: dict[str, dict[str, Any]] = {}
    for report in reports:
        target = report["target"]["name"]
        for result in report["results"]:
            row = rows.setdefault(result["case"], {"case": result["case"], "feature": result["feature"],
                                                   "title": result["title"], "cells": {}})
            cell = row["cells"].setdefault(target, {"verdict": None, "surfaces": {}, "checks": set()})
            cell["surfaces"][result["surface"]] = result["verdict"]
            cell["checks"].update(f["check"] for f in result.get("findings", []))
            verdict = Verdict(result["verdict"])
            if cell["verdict"] is None or _worse(verdict, Verdict(cell["verdict"])):
                cell["verdict"] = verdict.value
    first = names[0]
    for row in rows.values():  # what each later target adds to or removes from the first one's findings
        reference = row["cells"].get(first, {}).get("checks", set())
        for target, cell in row["cells"].items():
            cell["added"] = sorted(cell["checks"] - reference) if target != first else []
            cell["removed"] = sorted(reference - cell["checks"]) if target != first else []
            cell["checks"] = sorted(cell["checks"])
    ordered = sorted(rows.values(), key=lambda r: _ORDER.get(r["case"], 999))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in ordered:
        groups.setdefault(row["feature"], []).append(row)
    return {
        "targets": [{"name": r["target"]["name"], "base_url": r["target"].get("base_url", ""),
                     "spec": r["spec"]["label"], "recorded": (r["run"].get("recorded") or {}).get("last"),
                     "summary": r["summary"]} for r in reports],
        "groups": list(groups.items()),
    }


def _worse(a: Verdict, b: Verdict) -> bool:
    # NOT RECORDED / NOT RUN say nothing about the server; any real verdict wins over them.
    unknown = (Verdict.NOT_RECORDED, Verdict.NOT_RUN)
    if b in unknown:
        return a not in unknown
    return a not in unknown and a.rank > b.rank


def write_cross_target(reports: list[dict[str, Any]], folder: str | Path) -> list[Path]:
    matrix = cross_target(reports)
    folder = Path(folder)
    rendered = {
        folder / "matrix.md": template_environment().get_template("cross.md.j2").render(matrix=matrix),
        folder / "matrix.html": template_environment(html=True).get_template("cross.html.j2").render(matrix=matrix),
    }
    from conformance.report.write import no_controls

    rendered = {path: no_controls(text) for path, text in rendered.items()}
    atomic.write_all(rendered)  # both or neither
    return list(rendered)
