"""``conformance diff``: the regression gate between two report.json files."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.console import make_console
from conformance.exit_codes import EXIT_FINDINGS, EXIT_OK


def command_diff(args: argparse.Namespace) -> int:
    from conformance import output
    from conformance.report.diff import diff_reports, has_regression, load_report

    changes = diff_reports(load_report(args.baseline), load_report(args.current))
    output.diff(make_console(), changes, show_unchanged=args.show_unchanged)
    if args.markdown:
        write_diff_markdown(changes, args.markdown, str(args.baseline), str(args.current))
    if args.strict:
        return EXIT_FINDINGS if any(c.kind != "unchanged" for c in changes) else EXIT_OK
    return EXIT_FINDINGS if has_regression(changes) else EXIT_OK


def write_diff_markdown(changes: list, path: Path, baseline: str, current: str) -> None:
    from conformance import atomic
    from conformance.report.write import template_environment

    text = template_environment().get_template("diff.md.j2").render(
        changes=changes, baseline_name=baseline, current_name=current)
    atomic.write_text(path, text)
