"""``conformance validate``: findings for captured responses, with no server."""

from __future__ import annotations

import argparse
import json
from typing import Any

from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_OK
from conformance.output.console import make_console


def command_validate(args: argparse.Namespace) -> int:
    from conformance.judge.validate import read_capture, validate_text
    from conformance.output import terminal as output
    from conformance.run.settings import select_checks

    selection = select_checks(args.checks, args.exclude_checks)
    console = make_console()
    request = read_request(args.request) if args.request else None
    all_findings: list[dict[str, Any]] = []
    for path in args.files:
        result = validate_text(read_capture(path), args.kind, str(path), request, selection)
        all_findings.extend({"file": str(path), "kind": result.kind, "check": f.check, "pointer": f.where(),
                             "message": f.message} for f in result.findings)
        if args.format == "text":
            output.validation(console, str(path), result.kind, result.findings, result.notes)
        else:
            for note in result.notes:
                make_console(stderr=True).print(f"{path}: note: {note}", markup=False)
    if args.format == "json":
        print(json.dumps(all_findings, indent=2))
    return EXIT_FINDINGS if all_findings else EXIT_OK


def read_request(path: object) -> dict:
    from pathlib import Path

    from conformance.judge.validate import read_capture
    from conformance.model.errors import UsageError
    from conformance.wire.sse import loads_checked

    try:
        value, _ = loads_checked(read_capture(Path(str(path))))
    except ValueError:
        raise UsageError(f"--request {path} is not JSON: give the request body as sent") from None
    if not isinstance(value, dict):
        raise UsageError(f"--request {path} is not a JSON object")
    return value
