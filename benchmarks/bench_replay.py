"""Replay cost: the whole catalogue replayed from cassettes vs bare pytest running as many no-op tests.

Run on demand: `python benchmarks/bench_replay.py`. Target: replay <= 2x bare pytest. Cassettes are recorded
first from the SYNTHETIC stand-in server into a temporary folder, so the figure does not depend on a target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.standin.server import running  # noqa: E402

KEY = "bench-key-not-secret"
PROFILE = str(REPO / "tests/standin/standin.toml")


def timed(args: list[str], env: dict[str, str] | None = None, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, check=False, capture_output=True, env=env, cwd=REPO)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = dict(os.environ, CONFORMANCE_STANDIN_KEY=KEY)
        with running(KEY) as server:
            subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--target", PROFILE, "--base-url",
                            server.base_url, "--record-mode", "once", "--cassette-dir", str(folder / "c"),
                            "--report-dir", str(folder / "r")], check=True, capture_output=True, env=env, cwd=REPO)
        count = len(list((folder / "c").rglob("*.yaml")))
        noop = folder / "test_noop.py"
        noop.write_text(f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\ndef test_noop(n):\n"
                        "    pass\n")
        bare = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(noop)])
        replay = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                        "conformance.suite", f"--conformance-target={PROFILE}",
                        f"--conformance-cassette-dir={folder / 'c'}", f"--conformance-report-dir={folder / 'r2'}"])
    print(f"{count} cases x surfaces; bare pytest {bare:.2f}s, catalogue replay {replay:.2f}s, "
          f"ratio {replay / bare:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
