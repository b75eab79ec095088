"""A user's project: where its configuration lives and which folder its own data is relative to.

A project that installs the suite keeps its profiles, known-gaps manifests, cassettes, reports and baseline in
its own repository. The run options of ``conformance/run/options.py`` may be set there once, the way the Python
ecosystem does it: a ``conformance.toml`` (top-level keys, as ``ruff.toml`` does) or a ``[tool.conformance]``
table in ``pyproject.toml``. The nearest folder, from the working folder up, that has either is the project root;
without one, the working folder is. A flag beats an environment variable, which beats the config, which beats the
built-in default.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.model.errors import UsageError
from conformance.run.options import RUN_OPTIONS

CONFIG_FILE = "conformance.toml"
PYPROJECT = "pyproject.toml"
# The folder of a project's own profiles (<name>.toml) and known-gaps manifests (<name>.gaps.toml).
TARGETS_FOLDER = "targets"
# Options whose value is a path: relative paths in a config are relative to the config's folder, not to the
# folder a command happens to run in.
PATH_OPTIONS = ("cassette_dir", "report_dir", "cases_dir", "gaps", "target")


@dataclass(frozen=True)
class ProjectConfig:
    root: Path  # the project root: the config's folder, or the working folder when there is none
    path: Path | None = None  # the file the values came from
    values: dict[str, Any] = field(default_factory=dict)  # option name -> value, already typed and resolved

    @property
    def targets_dir(self) -> Path:
        return self.root / TARGETS_FOLDER

    def project_profile(self, name: str) -> Path | None:
        path = self.targets_dir / f"{name}.toml"
        return path if path.is_file() else None

    def project_manifest(self, name: str) -> Path | None:
        path = self.targets_dir / f"{name}.gaps.toml"
        return path if path.is_file() else None


def config_table(path: Path) -> dict[str, Any] | None:
    """The config table a file holds, or None when it holds none (a pyproject.toml without [tool.conformance])."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}): fix the file") from None
    if path.name == CONFIG_FILE:
        return document
    tool = document.get("tool")
    table = tool.get("conformance") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.conformance] must be a table")
    return table


def find_config(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest config from ``start`` up: conformance.toml first, then pyproject.toml's [tool.conformance].

    The walk stops at a repository's top (a folder with ``.git``): a config outside the user's project is not
    theirs.
    """
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        for name in (CONFIG_FILE, PYPROJECT):
            path = candidate / name
            if path.is_file():
                table = config_table(path)
                if table is not None:
                    return path, table
        if (candidate / ".git").exists():
            break
    return None


def load_project(start: Path | None = None) -> ProjectConfig:
    """The project the working folder belongs to, its config checked against the declared run options."""
    found = find_config(start)
    if found is None:
        return ProjectConfig(root=(start or Path.cwd()).resolve())
    path, table = found
    by_name = {o.name: o for o in RUN_OPTIONS if not o.cli_only}  # the gate, fuzzing, -k: per run, never config
    values: dict[str, Any] = {}
    for key, raw in table.items():
        name = key.replace("-", "_")
        option = by_name.get(name)
        if option is None:
            raise UsageError(f"{path}: unknown key {key!r}; the keys are the run options: "
                             f"{', '.join(sorted(by_name))}")
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            raw = ",".join(raw)  # surfaces = ["rest", "curl"], checks = [...]
        if isinstance(raw, dict | list) or isinstance(raw, bool):
            raise UsageError(f"{path}: {key} must be a string or a number, not {type(raw).__name__}")
        try:
            value = option.type(str(raw))
        except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise UsageError(f"{path}: {key} = {raw!r} is not valid: {exc}") from None
        if name in PATH_OPTIONS and isinstance(value, str) and value and value != "none":
            value = _relative_to(path.parent, value, name)
        values[name] = value
    return ProjectConfig(root=path.parent, path=path, values=values)


def _relative_to(folder: Path, value: str, name: str) -> str:
    if name == "target" and not (value.endswith(".toml") or os.sep in value or "/" in value):
        return value  # a target name, not a path
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else folder / path)


def from_pytest(config: Any) -> dict[str, Any]:
    """The run's option values under pytest: each flag given, else its environment variable, config or default."""
    project = load_project()
    values = {}
    for option in RUN_OPTIONS:
        if option.cli_only:
            continue  # the CLI's own flags (the gate, -k, fuzzing): pytest has its own or none
        given = config.getoption(f"conformance_{option.name}")
        values[option.name] = given if given is not None else option.default_value(project)
    return values
