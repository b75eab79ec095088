"""The checks: the registry (``registry``), the checks no endpoint family owns, and ``judging``, which registers
every check and runs them on a response.

The names below come from ``judging`` on first use, not when the package is imported: a family's check module
imports ``conformance.checks.registry``, and a package that imported every family as it loaded would make that
import a cycle (a process whose first import was a family's checks module failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.checks.judging import (
        REGISTRY,
        Check,
        CheckContext,
        CheckCrashed,
        run_checks,
        schema_findings,
    )

__all__ = ["REGISTRY", "Check", "CheckContext", "CheckCrashed", "run_checks", "schema_findings"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from conformance.checks import judging

        return getattr(judging, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
