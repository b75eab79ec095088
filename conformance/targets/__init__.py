"""Built-in target profiles (TOML data files), and their names."""

from __future__ import annotations

from importlib import resources


def builtin_targets() -> list[str]:
    """The names of the built-in targets: each ``<name>.toml`` here (a ``.gaps.toml`` is a target's known gaps)."""
    folder = resources.files(__name__)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
                  and not p.name.endswith(".gaps.toml"))
