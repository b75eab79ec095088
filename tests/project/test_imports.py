"""Every module of the package imports on its own, as the first import of a process: a command, a plugin or a user's
script may start from any of them (`conformance selftest` once failed because its first import was a family's check
module, whose package imported every family back).

The modules that run inside the reference server's own process need its optional extra (`.[refserver]`, the
llama.cpp server); the README's test command installs `.[dev]` only, so they are imported in a test of their own that
skips, with the reason, where that extra is missing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

# Modules that import the `refserver` extra (llama-cpp-python) at their top: they are `python -m` entry points of the
# reference server's process, never imported by the suite itself.
NEEDS_REFSERVER_EXTRA = ("conformance.refserver.sampled_server",)

PROGRAM = """
import importlib, pkgutil, sys
import conformance
wanted = sys.argv[1]
skip = set(sys.argv[2:])
names = [m.name for m in pkgutil.walk_packages(conformance.__path__, "conformance.")]
names = [n for n in names if n not in skip] if wanted == "core" else [n for n in names if n in skip]
failed = []
for name in names:
    for loaded in [k for k in sys.modules if k == "conformance" or k.startswith("conformance.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {str(exc)[:160]}")
print(len(names))
print("\\n".join(failed))
"""


def _import_each(wanted: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, wanted, *NEEDS_REFSERVER_EXTRA],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    count, *failed = result.stdout.strip().split("\n")
    return int(count), [line for line in failed if line]


def test_each_module_imports_first_in_a_fresh_process() -> None:
    count, failed = _import_each("core")
    assert count > 100
    assert failed == []


def test_each_reference_server_module_imports_where_its_extra_is_installed() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python (the `refserver` extra) is not installed: pip install -e '.[refserver]'")
    count, failed = _import_each("refserver")
    assert count == len(NEEDS_REFSERVER_EXTRA)
    assert failed == []
