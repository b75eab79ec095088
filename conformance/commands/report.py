"""``conformance report``: several targets side by side."""

from __future__ import annotations

import argparse

from conformance.model.exit_codes import EXIT_OK
from conformance.output.console import make_console


def command_report(args: argparse.Namespace) -> int:
    from conformance.report.cross import write_cross_target
    from conformance.report.diff import load_report

    reports = [load_report(path) for path in args.reports]
    console = make_console()
    for path in write_cross_target(reports, args.out):
        console.print(f"wrote {path}", markup=False)
    return EXIT_OK
