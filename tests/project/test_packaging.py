"""The package is complete: every file the code opens from the package is in the built wheel.

Users install the wheel, not the checkout: a data file that only the checkout has works in every test here and
crashes their first run (openai-answers.json did). The wheel is built offline from the checkout
(setuptools without build isolation), and its file list is compared with every file the package opens: each
non-Python file git tracks under conformance/, and each literal resource name the code reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

# A resource the code opens by literal name: resources.files("pkg").joinpath("name") or files("pkg") / "a" / "b".
_JOINPATH = re.compile(r'resources\.files\("([\w.]+)"\)\.joinpath\("([^"]+)"\)')
_SLASHED = re.compile(r'resources\.files\("([\w.]+)"\)((?:\s*/\s*"[^"]+")+)')


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _tracked_package_data() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "conformance"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    return [p for p in listed if not p.endswith(".py") and "/node_modules/" not in p]


def _opened_by_name() -> set[str]:
    opened = set()
    for path in (REPO / "conformance").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for package, name in _JOINPATH.findall(text):
            opened.add(package.replace(".", "/") + "/" + name)
        for package, parts in _SLASHED.findall(text):
            opened.add("/".join([package.replace(".", "/"), *re.findall(r'"([^"]+)"', parts)]))
    return opened


def test_every_packaged_data_file_is_in_the_wheel(wheel_files: set[str]) -> None:
    tracked = _tracked_package_data()
    assert "conformance/data/openai-answers.json" in tracked
    missing = [p for p in tracked if p not in wheel_files]
    assert not missing, f"files the package ships in the checkout but not in the wheel: {missing}"


def test_every_resource_opened_by_name_is_in_the_wheel(wheel_files: set[str]) -> None:
    opened = _opened_by_name()
    assert "conformance/data/openai-answers.json" in opened, "the scan no longer sees the resource reads"
    for name in opened:
        if "{" in name:  # a formatted name: checked through the tracked files above
            continue
        assert name in wheel_files or any(f.startswith(name.rstrip("/") + "/") for f in wheel_files), name


def test_the_node_surface_ships_without_its_installed_modules(wheel_files: set[str]) -> None:
    assert {"conformance/surfaces/node/surface.mjs", "conformance/surfaces/node/package-lock.json"} <= wheel_files
    assert not [f for f in wheel_files if "node_modules" in f]
    assert not [f for f in wheel_files if f.startswith("tests/")]


def test_the_wheel_check_script_is_what_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/wheel-check" in ci
    assert Path(REPO / "scripts" / "wheel-check").stat().st_mode & 0o111
