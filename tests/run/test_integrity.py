"""Integrity: interrupted runs keep the previous files whole; unreadable cassette folders stop a run untouched."""

from __future__ import annotations

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
from tests.conftest import REPO, default_signals, user_env
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin.server import Reply, running

SUBSET = "chat.system_user or n.one or tools.auto"


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
        env = user_env(tmp_path, CONFORMANCE_STANDIN_KEY=canary_key)
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
    # No pytest banner beside the suite's own line: no KeyboardInterrupt, no "N passed".
    assert "KeyboardInterrupt" not in stdout + stderr and "passed" not in stdout + stderr


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
