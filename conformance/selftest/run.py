"""Run every injector on every recorded exchange it applies to, and say which check caught it, where.

An injection is *caught* when a check it expects reports a finding (check id + pointer) that the exchange did
not already have. Before injecting, each untouched exchange is checked too: it may only show findings its
target's known-gaps manifest expects (for a conformant recording: none at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.judge.gaps import GapManifest, load_manifest, manifest_path
from conformance.model.verdicts import Verdict
from conformance.selftest.injectors import INJECTORS, Injector
from conformance.selftest.samples import Sample

CAUGHT, MISSED, NOT_APPLICABLE = "caught", "MISSED", "n/a"


@dataclass
class Cell:
    injector: str
    sample: str
    outcome: str
    check: str | None = None
    pointer: str | None = None
    event: int | None = None
    other: list[str] = field(default_factory=list)


@dataclass
class SelftestResult:
    cells: list[Cell]
    false_findings: list[tuple[str, str, str]]  # (sample, check, pointer) not expected for that target

    @property
    def missed(self) -> list[Cell]:
        return [c for c in self.cells if c.outcome == MISSED]

    @property
    def ok(self) -> bool:
        return not self.missed and not self.false_findings

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for c in self.cells if c.outcome == o) for o in (CAUGHT, MISSED, NOT_APPLICABLE)}

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts(), "false_findings": [list(f) for f in self.false_findings],
                "cells": [c.__dict__ for c in self.cells],
                "injectors": {i.id: {"expect": list(i.expect), "source": i.source, "doc": i.doc}
                              for i in INJECTORS.values()}}


def keys(findings: list[Any]) -> set[tuple[str, str]]:
    return {(f.check, f.pointer) for f in findings}


# Answers no check looks at: the run stops at the status (a 5xx, a rejected parameter).
UNJUDGED = (Verdict.ERROR, Verdict.UNSUPPORTED, Verdict.NOT_RECORDED)


def inject_one(injector: Injector, sample: Sample, base: Verdict, before: set[tuple[str, str]]) -> Cell:
    if sample.kind not in injector.kinds or base in UNJUDGED:
        return Cell(injector.id, sample.name, NOT_APPLICABLE)
    mutated = sample.copy()
    if not injector.apply(mutated):
        return Cell(injector.id, sample.name, NOT_APPLICABLE)
    new = [f for f in mutated.findings() if (f.check, f.pointer) not in before]
    hit = next((f for f in new if f.check in injector.expect), None)
    if hit is None:
        if not any(check in injector.expect for check, _ in before) or new:
            return Cell(injector.id, sample.name, MISSED, other=sorted({f.check for f in new}))
        return Cell(injector.id, sample.name, NOT_APPLICABLE)  # the recording already shows this deviation
    return Cell(injector.id, sample.name, CAUGHT, hit.check, hit.pointer, hit.event,
                sorted({f.check for f in new} - {hit.check}))


def run_selftest(samples: list[Sample], manifests: dict[str, GapManifest] | None = None) -> SelftestResult:
    manifests = dict(manifests or {})
    cells: list[Cell] = []
    false_findings: list[tuple[str, str, str]] = []
    for sample in samples:
        verdict, findings = sample.judge()
        target, surface = sample.name.split("/")[0], sample.name.split("/")[-2] if "/" in sample.name else ""
        if target not in manifests:
            manifests[target] = _builtin_manifest(target)  # read once per target, not once per sample
        manifest = manifests[target]
        for finding in findings:
            if finding.nature == "behaviour":
                continue  # what a sampled model chose (an empty answer, one call where two were asked): not a fault
            if not any(g.matches_finding(sample.case, surface, finding.check, finding.pointer, sample.request)
                       for g in manifest.gaps):
                false_findings.append((sample.name, finding.check, finding.pointer))
        before = keys(findings)
        cells.extend(inject_one(injector, sample, verdict, before) for injector in INJECTORS.values())
    return SelftestResult(cells, false_findings)


def _builtin_manifest(target: str) -> GapManifest:
    from conformance.model.errors import UsageError
    from conformance.run.profiles import load_profile

    try:
        target = load_profile(target).gaps_target  # a variant that shares another target's gaps
    except UsageError:
        pass  # cassettes of an ad-hoc target: no built-in profile, so no built-in manifest either
    path = manifest_path(target)
    return load_manifest(path) if path else GapManifest()


def write_selftest(result: SelftestResult, folder: str | Path) -> list[Path]:
    import json

    from conformance.output import atomic
    from conformance.report.write import template_environment

    folder = Path(folder)
    json_path, md_path = folder / "selftest.json", folder / "selftest.md"
    text = template_environment().get_template("selftest.md.j2").render(result=result, rows=summary_rows(result))
    atomic.write_text(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    atomic.write_text(md_path, text)
    return [json_path, md_path]


def matrix(result: SelftestResult) -> dict[str, dict[str, Cell]]:
    """injector -> sample -> cell, keeping only cells that applied."""
    grid: dict[str, dict[str, Cell]] = {i: {} for i in INJECTORS}
    for cell in result.cells:
        if cell.outcome != NOT_APPLICABLE:
            grid[cell.injector][cell.sample] = cell
    return grid


def summary_rows(result: SelftestResult) -> list[dict[str, Any]]:
    """One row per injector: how often it applied, which check caught it where (with counts), what it missed."""
    rows = []
    for injector_id, cells in matrix(result).items():
        caught: dict[str, int] = {}
        for cell in cells.values():
            if cell.outcome == CAUGHT:
                where = f"{'chunk[n]' if cell.event is not None else ''}{cell.pointer or '/'}"
                key = f"{cell.check} @ {where}"
                caught[key] = caught.get(key, 0) + 1
        rows.append({"id": injector_id, "injector": INJECTORS[injector_id], "applied": len(cells),
                     "caught": caught, "missed": [s for s, c in cells.items() if c.outcome == MISSED]})
    return rows
