"""Every module of the package imports on its own, as the first import of a process: a command, a plugin or a user's
script may start from any of them (`conformance selftest` once failed because its first import was a family's check
module, whose package imported every family back)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import importlib, pkgutil, sys
import conformance
names = [m.name for m in pkgutil.walk_packages(conformance.__path__, "conformance.")]
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


def test_each_module_imports_first_in_a_fresh_process() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    count, *failed = result.stdout.strip().split("\n")
    assert int(count) > 100
    assert [line for line in failed if line] == []
