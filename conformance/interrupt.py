"""SIGTERM (what CI systems and process managers send) stops a run the way Ctrl-C does: cleanly."""

from __future__ import annotations

import signal
from typing import Any


def stop_on_sigterm() -> None:
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: leave signals to whoever owns them
        pass


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
