"""``conformance run --fuzz N``: live fuzzing of documented parameters; a failure is shrunk and saved."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_OK
from conformance.output.console import make_console


def command_fuzz(args: argparse.Namespace, settings: Any) -> int:
    from dataclasses import replace

    from conformance.run.fuzz import fuzz

    surfaces = settings.surfaces if args.surfaces else ["rest"]
    if len(surfaces) != 1:
        raise UsageError("--fuzz runs on one surface: give --surfaces rest (or python-sdk, ...)")
    if args.fuzz < 1:
        raise UsageError("--fuzz needs a number of examples >= 1")
    settings = replace(settings, record_mode="once", surfaces=surfaces)
    cases_dir = args.cases_dir or Path("cases") / settings.profile.name
    err, out = make_console(stderr=True), make_console()
    err.print(f"fuzzing {settings.profile.name} on {surfaces[0]} with up to {args.fuzz} drawn requests (live)",
              markup=False)
    outcome = fuzz(settings, args.fuzz, surfaces[0], cases_dir, seed=args.fuzz_seed)
    if outcome.failing is None:
        out.print(f"fuzz: {outcome.tried} request(s), every answer passed the checks", markup=False)
        return EXIT_OK
    result = outcome.result
    assert result is not None  # a failing request comes with its result (fuzz.fuzz sets both)
    out.print(f"fuzz: {outcome.tried} request(s); minimal failing request {outcome.failing.id}: "
              f"{result.verdict.value}: {result.reason}", markup=False)
    out.print(json.dumps(outcome.failing.body, indent=2), markup=False)
    for path in outcome.saved:
        out.print(f"saved {path}", markup=False)
    out.print(f"replay it with: conformance run --target {settings.profile.name} --cases-dir {cases_dir} "
              f"-k {outcome.failing.id}", markup=False)
    return EXIT_FINDINGS
