"""The main job's cost: replaying the committed llama.cpp cassettes (every surface) vs bare pytest running as many
no-op tests. Run on demand: `python benchmarks/bench_replay.py`. Target: replay <= 2x bare pytest.

It prints where the replay's time goes (imports, each surface, judging, report rendering), measured in process,
so that the next optimisation starts from a measurement.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes" / "llamacpp"


def timed(args: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, check=False, capture_output=True, cwd=REPO)
        best = min(best, time.perf_counter() - started)
    return best


PROFILE = '''
import collections, sys, time
started = time.perf_counter()
import conformance.report.write as write, conformance.runner as runner
from conformance.surfaces import SURFACES
spent = collections.Counter(imports=time.perf_counter() - started)
def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - began
    setattr(owner, name, wrapper)
timed(runner, "judge", "judging")
timed(write, "render_all", "rendering md+html")
for surface in SURFACES.values():
    timed(surface, "run", "surface " + surface.name)
from conformance.cli import main
began = time.perf_counter()
main(["run", "--target", "llamacpp", "--report-dir", sys.argv[1]])
spent["whole run (after imports)"] = time.perf_counter() - began
print(", ".join(f"{k} {v:.2f}s" for k, v in spent.items()))
'''


def main() -> None:
    count = len(list(CASSETTES.rglob("*.yaml")))
    with tempfile.TemporaryDirectory() as tmp:
        noop = Path(tmp) / "test_noop.py"
        noop.write_text(f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\ndef test_noop(n):\n"
                        "    pass\n")
        bare = timed([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", str(noop)])
        replay = timed([sys.executable, "-m", "conformance.cli", "run", "--target", "llamacpp", "--report-dir",
                        f"{tmp}/r"])
        breakdown = subprocess.run([sys.executable, "-c", PROFILE, f"{tmp}/p"], capture_output=True, text=True,
                                   cwd=REPO).stdout.strip().splitlines()
    ratio = replay / bare
    print(f"{count} case x surface results from {CASSETTES.relative_to(REPO)}; bare pytest {bare:.2f}s, "
          f"conformance run (replay, report) {replay:.2f}s, ratio {ratio:.2f}: goal <= 2 "
          f"{'met' if ratio <= 2 else 'NOT met'}")
    print("where the time goes: " + (breakdown[-1] if breakdown else "(profile failed)"))


if __name__ == "__main__":
    main()
