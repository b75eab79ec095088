"""Everything a run can find wrong before its first request: found then, said in one line, exit 2.

A problem found after minutes of recording (an unwritable report folder, a corrupt or key-holding cassette)
costs the user the run; a problem found mid-run is worse, because tests that already ran may look fine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.cassettes import cassette_path
from conformance.model.errors import UsageError
from conformance.output import atomic

if TYPE_CHECKING:
    from conformance.cassettes import Recording
    from conformance.run.settings import Settings


def check_folders(settings: Settings, *, write_report: bool = True) -> None:
    folder = settings.cassette_dir
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"cassette folder {folder} is not a folder: give a folder with --cassette-dir")
    if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
        raise UsageError(f"cassette folder {folder} is not readable: fix its permissions")
    if settings.recording:
        problem = atomic.probe_writable(folder)
        if problem:
            raise UsageError(f"cannot write cassettes to {folder} ({problem}): choose another --cassette-dir")
    if write_report:
        if settings.report_dir.exists() and not settings.report_dir.is_dir():
            raise UsageError(f"report folder {settings.report_dir} is not a folder: give a folder with --report-dir")
        problem = atomic.probe_writable(settings.report_dir)
        if problem:
            raise UsageError(f"cannot write the report to {settings.report_dir} ({problem}): choose another "
                             "--report-dir")


def check_run(settings: Settings, recording: Recording, pairs: list[tuple[str, str]], *,
              write_report: bool = True) -> None:
    """Folders usable, and every cassette the selected cases may read whole and free of keys (in every mode)."""
    paths = [cassette_path(settings.cassette_dir, surface, case) for case, surface in pairs]
    if settings.fresh:
        from conformance.cassettes import check_cassette

        for path in paths:
            if path.is_file():
                check_cassette(path, settings.scrubber)
    else:
        recording.preflight([p for p in paths if p.is_file()])
    check_folders(settings, write_report=write_report)


REFUSED_STATUSES = (401, 403)


def refused_status(case: Any, result: Any) -> int | None:
    """The 401/403 a live exchange of ``case`` got with the run's own key (None for the cases that send a bad key
    or none on purpose): such an answer says the key is wrong, not how the server behaves, and is never kept."""
    if case.invalid_key or case.no_key:
        return None
    exchanges = [result.exchange, *(step.get("exchange") for step in result.steps)]
    for exchange in exchanges:
        if isinstance(exchange, dict) and exchange.get("status") in REFUSED_STATUSES:
            return int(exchange["status"])
    return None


def check_cases_dir(path: Path | None) -> None:
    if path is not None and not Path(path).is_dir():
        raise UsageError(f"--cases-dir {path} is not a folder: give the folder that holds the saved cases")
