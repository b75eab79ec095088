"""``conformance selftest``: inject known deviations into recorded exchanges and say which check caught each."""

from __future__ import annotations

import argparse

from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_OK
from conformance.output.console import make_console


def command_selftest(args: argparse.Namespace) -> int:
    from conformance.output import terminal as output
    from conformance.selftest.run import CAUGHT, MISSED, matrix, run_selftest, write_selftest
    from conformance.selftest.samples import load_samples

    samples = load_samples(args.cassettes)
    if not samples:
        raise UsageError(f"no recorded catalogue exchanges under {args.cassettes}")
    result = run_selftest(samples)
    console = make_console()
    output.selftest(console, matrix(result), f"self-test over {len(samples)} recorded exchanges in {args.cassettes}")
    counts = result.counts()
    console.print(f"{counts[CAUGHT]} caught, {counts[MISSED]} missed, {len(result.false_findings)} unexpected "
                  "finding(s) on untouched exchanges", markup=False)
    for sample, check, pointer in result.false_findings:
        console.print(f"  unexpected: {sample}: {check} at {pointer or '/'}", markup=False)
    if args.out:
        for path in write_selftest(result, args.out):
            console.print(f"wrote {path}", markup=False)
    return EXIT_OK if result.ok else EXIT_FINDINGS
