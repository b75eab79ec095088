"""Ctrl-C and SIGTERM stop a run cleanly, and once either has arrived no report is written.

SIGTERM (what CI systems and process managers send) is turned into the KeyboardInterrupt that Ctrl-C raises.
Both also set a process-wide flag: a signal can land anywhere (inside pytest-xdist's loop, inside a worker's
crash handling, inside the report writer), and whatever code runs next must be able to tell that the run was
cut short, so that a partial set of results never replaces the last complete report.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any

_state = {"interrupted": False}


def interrupted() -> bool:
    return _state["interrupted"]


def reset() -> None:
    _state["interrupted"] = False


def install() -> None:
    """Take over SIGINT and SIGTERM where they still have their default dispositions (never where ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            current = signal.getsignal(signum)
            if current in (signal.SIG_DFL, signal.default_int_handler, None) or current is _raise_interrupt:
                signal.signal(signum, _raise_interrupt)
        except ValueError:  # not the main thread: leave signals to whoever owns them
            return



def _raise_interrupt(signum: int, frame: Any) -> None:
    _state["interrupted"] = True
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for a short critical section (swapping finished report files into place)."""
    signals = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    except (ValueError, OSError, AttributeError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
