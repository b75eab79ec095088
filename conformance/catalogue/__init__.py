"""The catalogue: every documented feature the suite exercises, one declarative case each.

A case is data: the request it sends (built from the target's profile), the documentation section it comes
from, and what it expects. Adding a case is adding an entry to ``cases.py``; every surface runs every case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.catalogue.model import Case

if TYPE_CHECKING:
    from conformance.catalogue.cases import CASES, FEATURES, case_by_id

__all__ = ["CASES", "FEATURES", "TIERS", "Case", "case_by_id", "select_tier"]
_FROM_CASES = ("CASES", "FEATURES", "case_by_id")


def __getattr__(name: str) -> Any:
    """The cases come from ``cases`` on first use, not when the package loads: an endpoint family's cases module
    (conformance/api/<family>/cases.py, which ``cases`` gathers) imports this package's ``model`` and ``media``."""
    if name in _FROM_CASES:
        from conformance.catalogue import cases

        return getattr(cases, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

TIERS = ("core", "full")


def select_tier(cases: list[Case], tier: str | None, recording: bool, recorded: str = "") -> list[Case]:
    """The cases of a run: ``core`` or ``full``; by default, core when recording live (a key's rate limit is
    spent on what matters most) and, when replaying (cassettes cost nothing), the tier the target's cassettes
    were recorded with (its profile's ``catalogue``), else full."""
    tier = tier or ("core" if recording else (recorded or "full"))
    return cases if tier == "full" else [c for c in cases if c.tier == "core"]
