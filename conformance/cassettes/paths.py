"""Where cassettes live: one file per case and surface, under the run's cassette folder, named only by safe names."""

from __future__ import annotations

import os
import re
from pathlib import Path

from conformance.model.errors import UsageError

CASSETTE_SUFFIX = ".yaml"
# Case ids and surface names become file names: letters, digits, '.', '_' and '-', never a path of their own.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}$")


def check_name(name: str, what: str = "case id") -> str:
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise UsageError(f"{what} {name!r} is not a safe file name: use letters, digits, '.', '_' and '-' only "
                         "(no '/', no '..')")
    return name


def cassette_path(cassette_dir: str | Path, surface: str, case_id: str) -> Path:
    return Path(cassette_dir) / check_name(surface, "surface") / f"{check_name(case_id)}{CASSETTE_SUFFIX}"


def cassette_name(surface: str, case_id: str) -> str:
    return f"{check_name(surface, 'surface')}/{check_name(case_id)}"


def inside(path: str | Path, folder: str | Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(folder)))
