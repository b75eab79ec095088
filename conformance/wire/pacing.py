"""Pacing a live run to a key's requests-per-minute limit, across every pytest-xdist worker of the run.

The next free slot lives in a small file under the system's temporary folder, one per target and user, updated
under an exclusive lock: workers (and two runs against the same target, which share a key's quota) take slots
one after another, ``60 / rpm`` seconds apart. Nothing here reaches the network.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from pathlib import Path

STALE_S = 3600.0


def slot_file(target: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", target)
    return Path(tempfile.gettempdir()) / f"openai-conformance-pace-{os.getuid()}-{safe}"


def take_slot(path: Path, rpm: float, now: float | None = None) -> float:
    """Reserve the next slot and return how long to wait for it (0 when it is free now)."""
    interval = 60.0 / rpm
    now = time.time() if now is None else now
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            try:
                next_free = float(handle.read().strip() or 0.0)
            except ValueError:
                next_free = 0.0
            if next_free > now + STALE_S:  # not a slot any live run of ours could have taken: start afresh
                next_free = now
            slot = max(now, next_free)
            handle.seek(0)
            handle.truncate()
            handle.write(f"{slot + interval:.6f}")
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return slot - now


def wait_for_slot(target: str, rpm: float) -> None:
    delay = take_slot(slot_file(target), rpm)
    if delay > 0:
        time.sleep(delay)
