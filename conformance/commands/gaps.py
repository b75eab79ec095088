"""``conformance gaps draft REPORT``: a known-gaps manifest drafted from a report's findings, so that nobody copies
sixty findings by hand. Each entry names its check and pointer (array indices as ``*``), the cases and surfaces it
was seen on, the cassette it was read from as its source, and a reason to fill in: what the server does is for a
person to say, so every reason starts with TODO, and the draft is a file to review, not a verdict.

Findings already marked as known gaps are left out (they are in a manifest already); so are findings of results
that are already known. An ERROR result, and a FAIL without a finding, gets a verdict entry: a run judges their
verdict, not their findings.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_OK
from conformance.output.console import make_console
from conformance.output.toml_text import toml_string, toml_strings

_INDEX = re.compile(r"/\d+(?=/|$)")


def _pointer_glob(pointer: str) -> str:
    return _INDEX.sub("/*", pointer or "/")


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")[:80] or "gap"


def draft_entries(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries: one per (check, pointer glob) seen outside the known gaps, then one per (verdict) of results
    that fail without a finding to name."""
    surfaces_all = sorted({str(r.get("surface")) for r in report.get("results", []) if isinstance(r, dict)})
    by_finding: dict[tuple[str, str], dict[str, Any]] = {}
    by_verdict: dict[str, dict[str, Any]] = {}
    for result in report.get("results", []):
        if not isinstance(result, dict):
            continue
        new = [f for f in result.get("findings", []) if isinstance(f, dict) and not f.get("known_gap")]
        for finding in new:
            key = (str(finding.get("check")), _pointer_glob(str(finding.get("pointer") or "/")))
            entry = by_finding.setdefault(key, {"check": key[0], "pointer": key[1], "cases": set(), "surfaces": set(),
                                                "source": result.get("cassette") or "", "seen": finding})
            entry["cases"].add(result["case"])
            entry["surfaces"].add(result["surface"])
        gated = result.get("gated_verdict", result.get("verdict"))
        # An ERROR stays an ERROR whatever its findings (no usable answer), and a FAIL without a finding has
        # nothing else to name: each needs a verdict entry. (UNSUPPORTED does not fail a run.)
        if gated == result.get("verdict") and (gated == "ERROR" or (gated == "FAIL" and not new)):
            entry = by_verdict.setdefault(gated, {"verdict": gated, "cases": set(), "surfaces": set(),
                                                  "source": result.get("cassette") or "",
                                                  "seen": {"message": result.get("reason", "")}})
            entry["cases"].add(result["case"])
            entry["surfaces"].add(result["surface"])
    entries = []
    for entry in [*by_finding.values(), *by_verdict.values()]:
        message = " ".join(str(entry.pop("seen").get("message") or "").split())[:200]
        entry["id"] = _slug(entry.get("check") or entry["verdict"], entry.get("pointer", ""))
        entry["reason"] = f"TODO: say what the server does and why it is known (seen: {message})"
        entry["cases"] = sorted(entry["cases"])
        entry["surfaces"] = sorted(entry["surfaces"]) if sorted(entry["surfaces"]) != surfaces_all else ["*"]
        entries.append(entry)
    ids: dict[str, int] = {}
    for entry in entries:  # unique ids: a second entry of the same slug gets a number
        count = ids.get(entry["id"], 0)
        ids[entry["id"]] = count + 1
        if count:
            entry["id"] = f"{entry['id']}-{count + 1}"
    return entries


def render(entries: list[dict[str, Any]], report_path: str, target: str) -> str:
    lines = [f"# Known gaps of {target}, DRAFTED by `conformance gaps draft` from {report_path}.",
             "# Review each entry: keep what the server is known to do (say why in its reason, and link a source a",
             "# reader can open), narrow cases and surfaces, and delete what should fail the run instead.",
             ""]
    for entry in entries:
        lines.append("[[gap]]")
        lines.append(f"id = {toml_string(entry['id'])}")
        if entry.get("check"):
            lines.append(f"check = {toml_string(entry['check'])}")
            lines.append(f"pointer = {toml_string(entry['pointer'])}")
        else:
            lines.append(f"verdict = {toml_string(entry['verdict'])}")
        lines.append(f"cases = {toml_strings(entry['cases'])}")
        if entry["surfaces"] != ["*"]:
            lines.append(f"surfaces = {toml_strings(entry['surfaces'])}")
        lines.append(f"reason = {toml_string(entry['reason'])}")
        lines.append(f"source = {toml_string(entry['source'] or report_path)}")
        lines.append("")
    return "\n".join(lines)


def command_gaps(args: argparse.Namespace) -> int:
    from conformance.output import atomic
    from conformance.report.diff import load_report

    report = load_report(args.report)
    entries = draft_entries(report)
    target = str((report.get("target") or {}).get("name") or "the target")
    text = render(entries, str(args.report), target)
    err = make_console(stderr=True)
    if args.out is None:
        make_console().print(text, markup=False, end="")
    else:
        if args.out.exists():
            raise UsageError(f"not overwriting {args.out}: give another --out, or merge by hand")
        atomic.write_text(Path(args.out), text)
        err.print(f"wrote {args.out}", markup=False)
    err.print(f"{len(entries)} draft entr{'y' if len(entries) == 1 else 'ies'}; every reason starts with TODO: "
              "review them, then use the file with --gaps (or as targets/<name>.gaps.toml)", markup=False)
    return EXIT_OK
