"""Integrity: interrupted runs keep the previous files whole; parallel and concurrent runs agree and do not mix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes import check_cassette
from conformance.surfaces import SURFACES
from tests.conftest import REPO, default_signals
from tests.standin.server import Reply, running
from tests.test_end_to_end import PROFILE, conformance

SUBSET = "chat.system_user or n.one or tools.auto"


def comparable(report_dir: Path) -> dict[tuple[str, str], Any]:
    report = json.loads((report_dir / "report.json").read_text())
    return {(r["case"], r["surface"]): (r["verdict"], sorted((f["check"], f["pointer"]) for f in r["findings"]))
            for r in report["results"]}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_keeps_previous_report_and_cassettes(tmp_path: Path, canary_key: str, sig: int) -> None:
    args = ["run", "--target", PROFILE, "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")]

    def stall_tools(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        return Reply(reply.status, reply.body, stall_s=20) if request.get("tools") else reply

    with running(canary_key) as server:
        first = conformance(*args, "--base-url", server.base_url, "--record-mode", "once", "-k", SUBSET,
                            key=canary_key)
        assert first.returncode == 0, first.stderr
        report_before = (tmp_path / "r" / "report.json").read_bytes()
        server.mutations.append(stall_tools)
        already = len(server.requests)
        env = {"PATH": "/usr/bin:/bin", "CONFORMANCE_STANDIN_KEY": canary_key, "HOME": str(tmp_path)}
        process = subprocess.Popen([sys.executable, "-m", "conformance.cli", *args, "--base-url", server.base_url,
                                    "--record-mode", "rewrite", "-k", SUBSET], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=default_signals)
        deadline = time.monotonic() + 60
        while not any(r.get("tools") for _, _, r in server.requests[already:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-2000:]
    done, total = 2 * len(SURFACES), 3 * len(SURFACES)  # two cases finished on every surface; tools.auto did not
    assert f"interrupted after {done} of {total} case(s); {total - done} not finished" in stdout + stderr
    assert (tmp_path / "r" / "report.json").read_bytes() == report_before
    for cassette in (tmp_path / "c").rglob("*.yaml"):
        check_cassette(cassette)  # every cassette on disk is whole
    assert (tmp_path / "c" / "rest" / "tools.auto.yaml").is_file()  # the old one, kept
    assert not list(tmp_path.rglob("*.tmp"))
    assert "Traceback" not in stderr


def test_parallel_run_gives_the_same_verdicts_and_report(tmp_path: Path) -> None:
    base = ["run", "--target", "llamacpp", "--cassette-dir", str(REPO / "cassettes" / "llamacpp"),
            "--catalogue", "core"]
    serial = conformance(*base, "--report-dir", str(tmp_path / "serial"))
    parallel = conformance(*base, "--report-dir", str(tmp_path / "parallel"), "-n", "2")
    assert serial.returncode == parallel.returncode == 0, parallel.stderr[-2000:]
    assert comparable(tmp_path / "serial") == comparable(tmp_path / "parallel")
    a = json.loads((tmp_path / "serial" / "report.json").read_text())
    b = json.loads((tmp_path / "parallel" / "report.json").read_text())
    assert [(r["case"], r["surface"]) for r in a["results"]] == [(r["case"], r["surface"]) for r in b["results"]]
    assert a["summary"] == b["summary"] and a["gated_summary"] == b["gated_summary"]


def test_two_targets_at_once_do_not_interfere(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text((REPO / "conformance" / "targets" / "llamacpp.toml").read_text()
                     .replace('name = "llamacpp"', 'name = "llamacpp-twin"'))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    runs = [subprocess.Popen([sys.executable, "-m", "conformance.cli", "run", "--target", target,
                              "--cassette-dir", str(REPO / "cassettes" / "llamacpp"), "--report-dir",
                              str(tmp_path / name), "--gaps", "none", "--catalogue", "core"], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for target, name in (("llamacpp", "a"), (str(other), "b"))]
    assert [p.wait(timeout=300) for p in runs] == [1, 1]
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert a["target"]["name"] == "llamacpp" and b["target"]["name"] == "llamacpp-twin"
    assert comparable(tmp_path / "a") == comparable(tmp_path / "b")


def test_cassette_folder_that_is_a_file_is_exit_2_and_nothing_deleted(tmp_path: Path) -> None:
    blocker = tmp_path / "cassettes"
    blocker.write_text("not a folder")
    result = conformance("run", "--target", "llamacpp", "--cassette-dir", str(blocker))
    assert result.returncode == 2 and "is not a folder" in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "not a folder"


def test_corrupt_cassette_is_exit_2_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "c" / "python-sdk"
    folder.mkdir(parents=True)
    (folder / "n.one.yaml").write_text("interactions: [ {request: \n")
    result = conformance("run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"))
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "record again" in result.stderr
    assert (folder / "n.one.yaml").exists()
    assert os.listdir(folder) == ["n.one.yaml"]
