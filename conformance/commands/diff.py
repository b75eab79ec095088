"""``conformance diff``: the regression gate between two report.json files."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_OK
from conformance.output.console import make_console


def command_diff(args: argparse.Namespace) -> int:
    from conformance.output import terminal as output
    from conformance.report.diff import diff_reports, has_regression, load_report, version_changes

    baseline, current = load_report(args.baseline), load_report(args.current)
    changes = diff_reports(baseline, current)
    versions = version_changes(baseline, current)
    console = make_console()
    if versions:  # apart from the verdicts: not a regression, but every exchange's client headers differ
        console.print("client versions changed (not a verdict change): " + ", ".join(versions),
                      markup=False)
    output.diff(console, changes, show_unchanged=args.show_unchanged)
    if args.markdown:
        write_diff_markdown(changes, args.markdown, str(args.baseline), str(args.current), versions)
    if args.strict:  # the same report again: versions included
        return EXIT_FINDINGS if versions or any(c.kind != "unchanged" for c in changes) else EXIT_OK
    return EXIT_FINDINGS if has_regression(changes) else EXIT_OK


def write_diff_markdown(changes: list, path: Path, baseline: str, current: str,
                        versions: list[str] | None = None) -> None:
    from conformance.output import atomic
    from conformance.report.write import template_environment

    text = template_environment().get_template("diff.md.j2").render(
        changes=changes, baseline_name=baseline, current_name=current, versions=versions or [])
    atomic.write_text(path, text)
