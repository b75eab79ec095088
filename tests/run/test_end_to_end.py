"""Full record -> replay -> report cycles against the SYNTHETIC stand-in server, through the real CLI.

The canary key goes in through the environment and must come out of nowhere: no cassette, report or output.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import CASES
from conformance.surfaces import SURFACES
from tests.conftest import REPO, need_every_surface, user_env
from tests.standin.server import Reply, running

PROFILE = str(REPO / "tests" / "standin" / "standin.toml")
ALL = len(CASES) * len(SURFACES)  # every case on every surface (the Node.js SDK installed by setup-node)


def conformance(*args: str, key: str | None = None, cwd: Path | None = None,
                path: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, in this process (the imports and the Node.js worker are already paid for), with
    the environment a user would have: no API key but the one given, HOME at ``cwd``, PATH as given. Tests that
    need a process of their own (signals, concurrent runs) start one with ``subprocess.Popen``."""
    from conformance.cli import main

    env = user_env(cwd or REPO, PATH=path or os.environ.get("PATH", "/usr/bin:/bin"))
    if key is not None:
        env["CONFORMANCE_STANDIN_KEY"] = key

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd or REPO)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["conformance", *args], code, out.getvalue(), err.getvalue())


def run_args(base_url: str, tmp: Path, mode: str, name: str = "rep") -> list[str]:
    # --batch-wait 3: the stand-in's batch ends at the first poll, so polls come 0.3 s apart instead of 2 s.
    return ["run", "--target", PROFILE, "--base-url", base_url, "--record-mode", mode, "--catalogue", "full",
            "--cassette-dir", str(tmp / "cassettes"), "--report-dir", str(tmp / name), "--batch-wait", "3"]


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def verdicts(report_dir: Path) -> dict[tuple[str, str], str]:
    report = json.loads((report_dir / "report.json").read_text())
    return {(r["case"], r["surface"]): r["verdict"] for r in report["results"]}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import CANARY_KEY
    need_every_surface()

    tmp = tmp_path_factory.mktemp("e2e")
    with running(CANARY_KEY) as server:
        live = conformance(*run_args(server.base_url, tmp, "once", "live"), key=CANARY_KEY)
    # Replay on a port where nothing listens: only the cassettes can answer.
    replay = conformance(*run_args("http://127.0.0.1:9/v1/", tmp, "none", "replay"))
    return {"tmp": tmp, "live": live, "replay": replay}


def test_live_run_records_every_case_and_passes(recorded: dict[str, Any]) -> None:
    assert recorded["live"].returncode == 0, recorded["live"].stderr + recorded["live"].stdout
    found = verdicts(recorded["tmp"] / "live")
    assert len(found) == ALL and set(found.values()) == {"PASS"}
    assert len(list((recorded["tmp"] / "cassettes").rglob("*.yaml"))) == ALL


def test_replay_gives_the_same_verdicts_offline(recorded: dict[str, Any]) -> None:
    assert recorded["replay"].returncode == 0, recorded["replay"].stderr + recorded["replay"].stdout
    assert verdicts(recorded["tmp"] / "replay") == verdicts(recorded["tmp"] / "live")


def test_canary_key_reaches_no_file_and_no_output(recorded: dict[str, Any], canary_key: str) -> None:
    written = all_text(recorded["tmp"])
    outputs = "".join(recorded[k].stdout + recorded[k].stderr for k in ("live", "replay"))
    assert canary_key not in written and canary_key not in outputs
    assert "REDACTED" in written  # the Authorization header was there, and was replaced


def test_cassette_carries_provenance(recorded: dict[str, Any]) -> None:
    from conformance.cassettes import read_provenance

    provenance = read_provenance(recorded["tmp"] / "cassettes" / "rest" / "chat.system_user.yaml")
    assert provenance["target"] == "standin" and provenance["chat_model"] == "standin-chat"
    assert provenance["base_url"].startswith("http://127.0.0.1:")
    assert provenance["recorded_at"] and provenance["suite_version"]
    from importlib import metadata

    clients = provenance["clients"]  # what made the requests: a cassette says so without its report
    assert clients["openai"] == metadata.version("openai") and clients["httpx"] == metadata.version("httpx")
    assert clients["python"] and clients["openai (Node.js)"]


def test_report_names_spec_and_points_to_cassettes(recorded: dict[str, Any]) -> None:
    report = json.loads((recorded["tmp"] / "replay" / "report.json").read_text())
    assert report["spec"]["label"] == "openai-openapi@f85dbe2"
    assert report["schema_version"] == 2
    assert all(r["recorded_at"] for r in report["results"])
    markdown = (recorded["tmp"] / "replay" / "report.md").read_text()
    assert "openai-openapi@f85dbe2" in markdown and "| Streaming | [`stream.basic`]" in markdown


def test_a_replay_that_judges_nothing_exits_2_with_the_record_command_last(tmp_path: Path) -> None:
    result = conformance(*run_args("http://127.0.0.1:9/v1/", tmp_path, "none"), "-k", "chat.stop")
    assert result.returncode == 2, result.stderr
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert {r["verdict"] for r in report["results"]} == {"NOT RECORDED"}
    assert "--record-mode=once -k chat.stop" in report["results"][0]["reason"]
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"conformance run --target {REPO / 'tests' / 'standin' / 'standin.toml'} "
                    "--base-url http://127.0.0.1:9/v1/ --record-mode=once")


def test_record_mode_without_key_exits_2_and_ends_with_a_command_that_sets_it(tmp_path: Path) -> None:
    result = conformance(*run_args("http://127.0.0.1:9/v1/", tmp_path, "once"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "CONFORMANCE_STANDIN_KEY" in lines[0]
    assert lines[-1] == "read -rs CONFORMANCE_STANDIN_KEY && export CONFORMANCE_STANDIN_KEY"
    assert "Traceback" not in result.stderr


def test_deviating_server_gets_deviation_and_fail_verdicts(tmp_path: Path, canary_key: str) -> None:
    def drop_ids_and_ignore_n(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if isinstance(reply.body, dict) and "choices" in reply.body:
            reply.body.pop("id")
            reply.body["choices"] = reply.body["choices"][:1]
        return reply

    with running(canary_key) as server:
        server.mutations.append(drop_ids_and_ignore_n)
        result = conformance(*run_args(server.base_url, tmp_path, "once"), "-k", "chat.system_user or n.two",
                             key=canary_key)
    assert result.returncode == 1  # n.two FAILs
    found = verdicts(tmp_path / "rep")
    assert found[("chat.system_user", "rest")] == "DEVIATION"
    assert found[("n.two", "python-sdk")] == "FAIL"
    findings = json.loads((tmp_path / "rep" / "report.json").read_text())["results"]
    pointers = {(f["check"], f["pointer"]) for r in findings for f in r["findings"]}
    assert ("schema.chat.completion", "/id") in pointers and ("chat.choices.count", "/choices") in pointers


def test_rejected_parameter_is_unsupported_and_sdk_crash_is_fail(tmp_path: Path, canary_key: str) -> None:
    def reject_stop_and_break_stream(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if "stop" in request:
            google_error = {"code": 400, "message": 'Unknown name "stop"', "status": "INVALID_ARGUMENT"}
            return Reply(400, [{"error": google_error}])
        if request.get("tools") and reply.events:
            reply.events = [e.replace('"index": 0, "id"', '"id"') for e in reply.events]
            reply.events = [e.replace('{"index": 0, "function"', '{"function"') for e in reply.events]
        return reply

    with running(canary_key) as server:
        server.mutations.append(reject_stop_and_break_stream)
        conformance(*run_args(server.base_url, tmp_path, "once"), "-k", "chat.stop or tools.stream", key=canary_key)
    found = verdicts(tmp_path / "rep")
    assert found[("chat.stop", "rest")] == "UNSUPPORTED"
    assert found[("tools.stream", "python-sdk")] == "FAIL"
    results = json.loads((tmp_path / "rep" / "report.json").read_text())["results"]
    sdk = next(r for r in results if r["case"] == "tools.stream" and r["surface"] == "python-sdk")
    assert "sdk.stream.accumulate" in {f["check"] for f in sdk["findings"]}
