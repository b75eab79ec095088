"""``conformance checks``: the documented set of checks, generated from the registry (one namespace of ids)."""

from __future__ import annotations

import argparse
import json
from fnmatch import fnmatchcase
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_OK
from conformance.output.console import make_console


def check_rows(patterns: str | None = None) -> list[dict[str, Any]]:
    from conformance.checks import REGISTRY

    wanted = [p.strip() for p in (patterns or "").split(",") if p.strip()]
    rows = []
    for check_id, check in sorted(REGISTRY.items()):
        if wanted and not any(fnmatchcase(check_id, p) for p in wanted):
            continue
        rows.append({"id": check_id, "severity": check.severity.value, "nature": check.nature,
                     "applies_to": list(check.kinds) or ["(produced by the schemas or the SDK surfaces)"],
                     "needs_request": check.needs_request,
                     "checks": check.doc, "source": check.source, "sample": sample_finding(check_id)})
    if wanted and not rows:
        raise UsageError(f"no check matches {patterns!r}")
    return rows


def sample_finding(check_id: str) -> str:
    from conformance.selftest.injectors import INJECTORS

    injected = [i.id for i in INJECTORS.values() if check_id in i.expect]
    return f"caught by the self-test's {', '.join(injected[:3])}" if injected else ""


def coverage() -> dict[str, Any]:
    """The traced normative statements of the pinned spec (conformance/data/normative.json): each with the check
    that judges it, or the reason no wire answer can show it."""
    from importlib import resources

    from conformance.checks import REGISTRY

    data = json.loads(resources.files("conformance.data").joinpath("normative.json").read_text(encoding="utf-8"))
    statements = data["statements"]
    fields = data.get("request_fields", [])
    mined = data.get("mined", {}).get("candidates", [])
    named = {s["check"] for s in statements if s.get("check")} | {c for f in fields for c in f["checks"]} | {
        m["kept_as"] for m in mined if m.get("kept_as")}
    unknown = sorted(named - set(REGISTRY))
    if unknown:
        raise UsageError(f"normative.json names unregistered check(s): {', '.join(unknown)}")
    checked = [s for s in statements if s.get("check")]
    return {"spec": data["spec"], "statements": statements, "found": len(statements), "checked": len(checked),
            "not_checkable": len(statements) - len(checked),
            "checks_used": len({s["check"] for s in checked}),
            "request_fields": fields, "mined": mined}


def command_coverage(args: argparse.Namespace) -> int:
    table = coverage()
    console = make_console()
    summary = (f"{table['found']} normative statements traced in {table['spec']}: {table['checked']} checked (by "
               f"{table['checks_used']} check ids), {table['not_checkable']} not checkable from the wire")
    if args.format == "json":
        print(json.dumps(table, indent=2))
    elif args.format == "markdown":
        lines = [summary, "", "| where | the spec says | check | or why not |", "|---|---|---|---|"]
        lines += [f"| `{s['where']}` | {s['says'].replace('|', '/')} | {('`' + s['check'] + '`') if s['check'] else ''}"
                  f" | {(s.get('reason') or '').replace('|', '/')} |" for s in table["statements"]]
        lines += ["", "What each request field obliges an answer to (the same in a run, `validate --request`, the "
                  "proxy and a conversation's steps, in a body and in a stream):", "",
                  "| family | request field | obliges the answer to | check ids |", "|---|---|---|---|"]
        lines += [f"| {f['family']} | `{f['field']}` | {(f['obliges'] or 'nothing: ' + f['why']).replace('|', '/')} | "
                  f"{', '.join('`' + c + '`' for c in f['checks'])} |" for f in table["request_fields"]]
        lines += ["", "Relations mined from the genuine OpenAI answers (scripts/mine-relations):", "",
                  "| candidate | kept as | why |", "|---|---|---|"]
        lines += [f"| {m['candidate']} | {('`' + m['kept_as'] + '`') if m.get('kept_as') else 'rejected'} | "
                  f"{m['why'].replace('|', '/')} |" for m in table["mined"]]
        print("\n".join(lines))
    else:
        for s in table["statements"]:
            console.print(f"{s['check'] or '(not checkable)':<34} {s['where']}: {s['says']}", markup=False)
            if not s["check"]:
                console.print(f"{'':<34} why: {s['reason']}", markup=False)
        console.print(summary, markup=False)
        console.print("\nRequest field -> what it obliges -> check ids:", markup=False)
        for f in table["request_fields"]:
            obliges = f["obliges"] or f"nothing judged: {f['why']}"
            console.print(f"  {f['family']:<10} {f['field']:<36} {obliges}", markup=False)
            if f["checks"]:
                console.print(f"  {'':<10} {'':<36} -> {', '.join(f['checks'])}", markup=False)
    return EXIT_OK


def command_checks(args: argparse.Namespace) -> int:
    if getattr(args, "coverage", False):
        return command_coverage(args)
    rows = check_rows(args.checks)
    console = make_console()
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    elif args.format == "markdown":
        lines = ["| id | severity | nature | what it checks | source |", "|---|---|---|---|---|"]
        lines += [f"| `{r['id']}` | {r['severity']} | {r['nature']} | {r['checks'].replace('|', '/')} | "
                  f"{r['source']} |" for r in rows]
        print("\n".join(lines))
    else:
        for r in rows:
            console.print(f"{r['id']}  [{r['severity']}, {r['nature']}]  {r['checks']}", markup=False)
            console.print(f"    source: {r['source']}", markup=False)
            if r["sample"]:
                console.print(f"    {r['sample']}", markup=False)
        console.print(f"{len(rows)} check(s)", markup=False)
    return EXIT_OK
