"""The endpoint families: each package of ``conformance.api`` is one, holding its operations and what goes with
them (checks, stream assembly, the client's reading, its conversation rule)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from types import ModuleType

import conformance.api as api


def names() -> list[str]:
    """Every family of ``conformance.api``, in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(api.__path__) if m.ispkg)


def import_each(part: str) -> list[ModuleType]:
    """Each family's ``part`` module (``checks``, ...), imported where the family has one."""
    found = []
    for family in names():
        name = f"{api.__name__}.{family}.{part}"
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name))
    return found


def part_of(family: str, part: str) -> ModuleType | None:
    """The family's ``part`` module (its ``conversation`` rule, ...), or None when it has none."""
    name = f"{api.__name__}.{family}.{part}"
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None
