"""The four client surfaces: a deviation injected into a replayed exchange reaches every surface's verdict,
each client's own reaction shows on its column, and a machine without Node.js or curl reports NOT RUN."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.surfaces import SURFACES
from tests.conftest import REPO, default_signals, run_exit_code, user_env
from tests.run.test_end_to_end import conformance

COMMITTED = REPO / "cassettes" / "llamacpp"


def edit_response(path: Path, edit: Any) -> None:
    """TEST-ONLY edit of a copied cassette (in a temporary folder, never committed)."""
    header, _, rest = path.read_text().partition("interactions:")
    data = yaml.safe_load("interactions:" + rest)
    response = data["interactions"][-1]["response"]
    response["body"]["string"] = edit(response["body"]["string"])
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))


def replay(cassettes: Path, out: Path, *extra: str) -> dict[tuple[str, str], dict[str, Any]]:
    result = conformance("run", "--target", "llamacpp", "--cassette-dir", str(cassettes), "--report-dir", str(out),
                         *extra)
    report = json.loads((out / "report.json").read_text())
    assert result.returncode == run_exit_code(report), result.stderr[-2000:]
    return {(r["case"], r["surface"]): r for r in report["results"]}


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    missing = [s for s in SURFACES if not (COMMITTED / s).is_dir()]
    assert not missing, f"no committed cassettes for {missing}"
    unavailable = {s: SURFACES[s].unavailable() for s in SURFACES if SURFACES[s].unavailable()}
    if unavailable:
        pytest.skip(f"surfaces not runnable here: {unavailable}")
    tmp = tmp_path_factory.mktemp("inject")
    shutil.copytree(COMMITTED, tmp / "c")
    for surface in SURFACES:
        folder = tmp / "c" / surface
        edit_response(folder / "chat.system_user.yaml", lambda body: json.dumps(
            {k: v for k, v in json.loads(body).items() if k != "id"}))
        edit_response(folder / "stream.basic.yaml", lambda body: body.replace("data: [DONE]", ""))
        edit_response(folder / "n.one.yaml", lambda body: body[: len(body) // 2])
        edit_response(folder / "embeddings.single.yaml", lambda body: json.dumps(
            {**json.loads(body), "data": [{**d, "embedding": "AAAA"} for d in json.loads(body)["data"]]}))
    return replay(tmp / "c", tmp / "r", "-k", "chat.system_user or stream.basic or n.one or embeddings.single")


@pytest.mark.parametrize("surface", list(SURFACES))
def test_missing_id_reaches_every_surface(injected: dict[tuple[str, str], dict[str, Any]], surface: str) -> None:
    result = injected[("chat.system_user", surface)]
    assert ("schema.chat.completion", "/id") in {(f["check"], f["pointer"]) for f in result["findings"]}
    assert result["verdict"] == "DEVIATION"


@pytest.mark.parametrize("surface", list(SURFACES))
def test_missing_done_reaches_every_surface(injected: dict[tuple[str, str], dict[str, Any]], surface: str) -> None:
    result = injected[("stream.basic", surface)]
    assert "stream.done" in {f["check"] for f in result["findings"]}


@pytest.mark.parametrize("surface", list(SURFACES))
def test_truncated_body_is_an_error_on_every_surface(injected: dict[tuple[str, str], dict[str, Any]],
                                                     surface: str) -> None:
    result = injected[("n.one", surface)]
    assert result["verdict"] == "ERROR" and "not JSON" in result["reason"]


def test_sdks_react_on_their_own_columns(injected: dict[tuple[str, str], dict[str, Any]]) -> None:
    """A vector of 3 bytes instead of float32 base64 where floats were asked: each client, its own outcome."""
    by_surface = {s: injected[("embeddings.single", s)] for s in SURFACES}
    for surface, result in by_surface.items():
        checks = {f["check"] for f in result["findings"]}
        assert "embeddings.encoding_format.honoured" in checks, (surface, checks)
        assert result["verdict"] == "FAIL"
    assert by_surface["node-sdk"]["sdk"].get("returned") or by_surface["node-sdk"]["sdk"].get("raised")
    assert by_surface["curl"]["sdk"] == {"http_code": "200"}


def test_without_node_and_curl_those_columns_are_not_run(tmp_path: Path) -> None:
    from tests.run.test_end_to_end import conformance

    done = conformance("run", "--target", "llamacpp", "--cassette-dir", str(COMMITTED), "--report-dir",
                       str(tmp_path / "r"), "-k", "chat.system_user", cwd=tmp_path,
                       path=str(tmp_path))  # neither node nor curl on PATH
    assert done.returncode == 0, done.stderr[-2000:]
    results = {r["surface"]: r for r in json.loads((tmp_path / "r" / "report.json").read_text())["results"]}
    assert results["node-sdk"]["verdict"] == "NOT RUN" and "Node.js is not installed" in results["node-sdk"]["reason"]
    assert results["curl"]["verdict"] == "NOT RUN" and "curl is not installed" in results["curl"]["reason"]
    assert results["python-sdk"]["verdict"] == results["rest"]["verdict"] == "DEVIATION"


def test_one_surface_alone(tmp_path: Path) -> None:
    results = replay(COMMITTED, tmp_path / "r", "--surfaces", "curl", "-k", "embeddings and not params")
    assert {surface for _, surface in results} == {"curl"} and len(results) == 4


def test_standalone_proxy_records_then_replays_for_any_client(tmp_path: Path, canary_key: str) -> None:
    """`conformance proxy`: curl through it live, then offline from the cassette it wrote, same answer."""
    import signal
    import subprocess
    import time

    from tests.standin.server import running

    cassette = tmp_path / "session.yaml"
    body = '{"model": "standin-chat", "messages": [{"role": "user", "content": "Hello"}]}'

    def session(mode: str, base_url: str, key: str | None) -> tuple[str, str]:
        env = user_env(tmp_path, **({"CONFORMANCE_STANDIN_KEY": key} if key else {}))
        proxy = subprocess.Popen([sys.executable, "-m", "conformance.cli", "proxy", "--target",
                                  str(REPO / "tests" / "standin" / "standin.toml"), "--base-url", base_url,
                                  "--cassette", str(cassette), "--record-mode", mode], cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=default_signals)
        assert proxy.stdout is not None
        banner = proxy.stdout.readline()
        url = banner.split(" at ")[1].split(" ")[0]
        answer = subprocess.run(["curl", "-sS", url + "chat/completions", "-H", "Content-Type: application/json",
                                 "-H", "Authorization: Bearer anything", "-d", body],
                                capture_output=True, text=True, timeout=60).stdout
        time.sleep(0.5)
        proxy.send_signal(signal.SIGINT)
        out, err = proxy.communicate(timeout=30)
        assert proxy.returncode == 0, err
        return answer, banner + out

    with running(canary_key) as server:
        live, live_log = session("once", server.base_url, canary_key)
    replayed, replay_log = session("none", "http://127.0.0.1:9/v1/", None)
    assert json.loads(live)["choices"][0]["message"]["content"] == "Sky blue"
    assert replayed == live
    # Each exchange judged as a run judges it, from its request: the stand-in's answer is conformant.
    assert "-> 200 (chat.completion: no finding)" in live_log and "-> 200 (chat.completion: no finding)" in replay_log
    assert "proxy stopped after 1 exchange(s)" in live_log and "proxy stopped after 1 exchange(s)" in replay_log
    assert canary_key not in cassette.read_text() + live_log
