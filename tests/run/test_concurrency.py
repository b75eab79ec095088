"""Concurrency: a run on several workers and two runs at once give what a serial run gives, and do not mix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO, user_env
from tests.run.test_end_to_end import conformance


def comparable(report_dir: Path) -> dict[tuple[str, str], Any]:
    report = json.loads((report_dir / "report.json").read_text())
    return {(r["case"], r["surface"]): (r["verdict"], sorted((f["check"], f["pointer"]) for f in r["findings"]))
            for r in report["results"]}


def test_parallel_run_gives_the_same_verdicts_and_report(tmp_path: Path) -> None:
    """The serial answer is the committed report (test_reports replays it byte for byte); the parallel run of the
    core tier on two workers must agree with it on every pair, in the same order."""
    parallel = conformance("run", "--target", "llamacpp", "--cassette-dir", str(REPO / "cassettes" / "llamacpp"),
                           "--catalogue", "core", "--report-dir", str(tmp_path / "parallel"), "-n", "2")
    assert parallel.returncode == 0, parallel.stderr[-2000:]
    committed = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    ran = json.loads((tmp_path / "parallel" / "report.json").read_text())
    pairs = [(r["case"], r["surface"]) for r in ran["results"]]
    serial = [r for r in committed["results"] if (r["case"], r["surface"]) in set(pairs)]
    assert pairs == [(r["case"], r["surface"]) for r in serial] and len(pairs) > 100
    assert ran["results"] == serial  # verdicts, findings, exchanges: everything but the summary's scope
    assert sum(ran["summary"].values()) == len(serial)


def test_two_targets_at_once_do_not_interfere(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text((REPO / "conformance" / "targets" / "llamacpp.toml").read_text()
                     .replace('name = "llamacpp"', 'name = "llamacpp-twin"'))

    def args(target: str, name: str) -> list[str]:
        return ["run", "--target", target, "--cassette-dir", str(REPO / "cassettes" / "llamacpp"), "--report-dir",
                str(tmp_path / name), "--gaps", "none", "--catalogue", "core"]

    # One run in a process of its own, the other in this one while the first is under way.
    first = subprocess.Popen([sys.executable, "-m", "conformance.cli", *args("llamacpp", "a")], cwd=REPO,
                             env=user_env(tmp_path), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    second = conformance(*args(str(other), "b"), cwd=tmp_path)
    assert [first.wait(timeout=300), second.returncode] == [1, 1]
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert a["target"]["name"] == "llamacpp" and b["target"]["name"] == "llamacpp-twin"
    assert comparable(tmp_path / "a") == comparable(tmp_path / "b")
