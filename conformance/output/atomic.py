"""Atomic file writes: a reader (or an interrupted run) sees the old files or the new ones, never half of them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def write_text(path: str | os.PathLike[str], text: str) -> None:
    write_all({Path(path): text})


def write_all(files: Mapping[Path, str]) -> None:
    """Write every file to a temporary name beside it, then swap them all into place with signals held back.

    A report is several files (json, md, html): a run stopped between two of them must not leave a new report.json
    beside an old report.html, so nothing is replaced until every new file is whole on disk.
    """
    from conformance.run import interrupt

    temps: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            temps.append((_write_temp(Path(path), text), Path(path)))
        with interrupt.deferred():
            if interrupt.interrupted():
                raise KeyboardInterrupt("interrupted before the files were swapped into place")
            for temp, target in temps:
                os.replace(temp, target)
            temps = []
    finally:
        for temp, _ in temps:
            Path(temp).unlink(missing_ok=True)


def _write_temp(target: Path, text: str) -> str:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; the result should look like any written file
        # Legal JSON may carry a lone surrogate (a "\ud800" escape) that UTF-8 cannot encode: it is written as
        # that escape again, so every file stays UTF-8 and a JSON file still says what the server sent.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def probe_writable(folder: Path) -> str | None:
    """Why ``folder`` cannot take new files (None when it can): asked before a run, not found out after it."""
    if not folder.exists():  # ask the nearest existing parent, without creating anything yet
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            return "no existing parent folder"
        return None if os.access(parent, os.W_OK | os.X_OK) else f"{parent} is not writable"
    try:
        fd, temp = tempfile.mkstemp(prefix=".conformance-probe.", dir=folder)
        os.close(fd)
        os.unlink(temp)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
