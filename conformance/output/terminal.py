"""Terminal renderers: what the CLI prints, one function per view, all taking plain data and a console.

Files (report.json/md/html, diff.md, selftest.md) are rendered by ``conformance.report``; this module is only the
terminal. Every table is built so that piped output keeps ids, pointers and messages whole (see console.py).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from conformance.output.console import cell
from conformance.report.rates import cell_rate

VERDICT_STYLES = {"PASS": "green", "DEVIATION": "yellow", "UNSUPPORTED": "magenta", "FLAKY": "dark_orange",
                  "FAIL": "red", "ERROR": "bold red"}
CHANGE_STYLES = {"regression": "bold red", "improvement": "green", "unchanged": "dim", "added": "cyan",
                 "removed": "yellow"}


def counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"


def matrix(console: Console, report: dict[str, Any]) -> None:
    table = Table(title=cell(f"{report['target']['name']}: validated against OpenAI spec {report['spec']['label']}"))
    table.add_column("case", no_wrap=True)
    surfaces = [s["name"] for s in report["surfaces"]]
    for surface in surfaces:
        table.add_column(surface, no_wrap=True)
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        grid.setdefault(result["case"], {})[result["surface"]] = result
    for case, row in grid.items():
        cells = []
        for surface in surfaces:
            result = row.get(surface)
            verdict = result["verdict"] if result else ""
            known = result is not None and result.get("gated_verdict", verdict) != verdict
            rate = cell_rate(result) if result else ""
            text = cell(verdict, VERDICT_STYLES.get(verdict, "dim"))
            if known:
                text.append("*", style="dim")
            if rate:
                text.append(f" {rate}")
            cells.append(text)
        table.add_row(cell(case), *cells)
    console.print(table)
    console.print(counts_line(report["summary"]), markup=False)
    if report.get("known_gaps", {}).get("manifest"):
        console.print(f"* known gap, listed in {report['known_gaps']['manifest']}", markup=False)
    for gap in report.get("gaps_closed", []):
        console.print(f"known gap closed: {gap['id']} ({gap['check'] or gap['verdict']}) no longer shows up: remove "
                      "it from the manifest", markup=False)


def diff(console: Console, changes: list[Any], *, show_unchanged: bool = False) -> None:
    shown = [c for c in changes if show_unchanged or c.kind != "unchanged"]
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in CHANGE_STYLES}
    if not shown:
        console.print(f"conformance diff: no change in {len(changes)} result(s)" if changes else
                      "conformance diff: both reports are empty", markup=False)
        return
    table = Table(title="conformance diff")
    for column in ("change", "case", "surface", "before", "after"):
        table.add_column(column, no_wrap=True)
    table.add_column("details")
    for c in shown:
        details = "; ".join([*(f"new {f}" for f in c.new_findings), *(f"gone {f}" for f in c.gone_findings),
                             *([c.note] if c.note else [])])
        table.add_row(cell(c.kind, CHANGE_STYLES[c.kind]), cell(c.case), cell(c.surface), cell(c.before),
                      cell(c.after), cell(details))
    console.print(table)
    console.print(counts_line(counts), markup=False)


def selftest(console: Console, rows: dict[str, dict[str, Any]], title: str) -> None:
    from conformance.selftest.run import CAUGHT, MISSED

    table = Table(title=title)
    for column in ("deviation class", "applied", "caught by", "missed"):
        table.add_column(column, no_wrap=column != "missed")
    for injector, row in rows.items():
        caught = sorted({f"{c.check}" for c in row.values() if c.outcome == CAUGHT})
        missed = [s for s, c in row.items() if c.outcome == MISSED]
        table.add_row(cell(injector), cell(len(row)), cell(", ".join(caught) or ("-" if not row else "")),
                      cell(", ".join(missed), "bold red"))
    console.print(table)


def validation(console: Console, path: str, kind: str, findings: list[Any], notes: list[str]) -> None:
    for note in notes:
        console.print(f"{path}: note: {note}", markup=False)
    if not findings:
        console.print(f"{path}: {kind}: OK", markup=False)
        return
    console.print(f"{path}: {kind}: {len(findings)} finding(s)", markup=False)
    for f in findings:
        console.print(f"  {f.check}  {f.where()}  {f.message}", markup=False)
