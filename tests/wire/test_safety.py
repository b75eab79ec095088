"""What a run must refuse or survive before and around its requests: unsafe ids, unusable folders, refused keys,
crashing checks, non-finite numbers, double signals, stuck proxy clients, and the key on its way to other origins.
Everything served here is SYNTHETIC and on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from tests.conftest import REPO, default_signals, need_every_surface, user_env
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin import hostile as h
from tests.standin.server import Reply, running


def saved_case(folder: Path, case_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evil.json"
    path.write_text(json.dumps({"id": case_id, "feature": "Saved", "title": "t", "section": "s",
                                "endpoint": "chat/completions", "body": {"model": "m", "messages": []}}))
    return path


@pytest.mark.parametrize("case_id", ["../../escaped", "/tmp/absolute", "a/b", "..", "ok\nnewline"])
def test_unsafe_case_id_is_refused_before_anything_is_written(tmp_path: Path, case_id: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    saved_case(tmp_path / "cases", case_id)
    code = main(["run", "--target", "llamacpp", "--cases-dir", str(tmp_path / "cases"),
                 "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "not a safe file name" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()
    assert not (tmp_path.parent / "escaped.yaml").exists()


def test_cassette_path_never_leaves_its_folder(tmp_path: Path) -> None:
    from conformance.cassettes import cassette_path
    from conformance.model.errors import UsageError

    with pytest.raises(UsageError):
        cassette_path(tmp_path, "rest", "../x")
    with pytest.raises(UsageError):
        cassette_path(tmp_path, "../rest", "x")
    assert cassette_path(tmp_path, "rest", "fuzz.ab12").parent == tmp_path / "rest"


def test_missing_cases_dir_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--target", "llamacpp", "--cases-dir", str(tmp_path / "nope"),
                 "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--cases-dir" in err and err.strip().count("\n") == 0 and "Traceback" not in err


def test_unwritable_report_folder_is_found_before_the_first_request(tmp_path: Path, canary_key: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with running(canary_key) as server:
        result = conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--record-mode", "once",
                             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(blocker / "reports"),
                             "-k", "chat.system_user", key=canary_key)
        requests = len(server.requests)
    assert result.returncode == 2 and "cannot write the report" in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and requests == 0


def test_a_check_that_raises_costs_its_case_the_verdict_not_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.checks import REGISTRY
    from conformance.checks.registry import Check

    def broken(ctx: Any) -> list[Any]:
        raise ZeroDivisionError("boom")

    original = REGISTRY["chat.usage.total"]
    monkeypatch.setitem(REGISTRY, "chat.usage.total", Check(original.id, original.kinds, broken, original.severity,
                                                            original.needs_request, original.doc))
    code = main(["run", "--target", "llamacpp", "--report-dir", str(tmp_path / "r"), "--surfaces", "rest",
                 "-k", "chat.system_user or stream.basic"])
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    rows = {r["case"]: r for r in report["results"]}
    assert code == 1 and set(rows) == {"chat.system_user", "stream.basic"}
    assert rows["chat.system_user"]["verdict"] == "ERROR"
    assert "check chat.usage.total raised ZeroDivisionError: boom" in rows["chat.system_user"]["reason"]
    assert rows["stream.basic"]["verdict"] == "PASS"


def test_non_finite_numbers_never_reach_report_json(tmp_path: Path) -> None:
    from conformance.report.write import dumps, strict_json

    report = {"results": [{"findings": [{"seen": float("nan"), "expected": [float("inf"), -float("inf")]}]}]}
    text = dumps(report)
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written"))
    assert strict_json(report)["results"][0]["findings"][0]["seen"] == "nan"


def test_duplicate_keys_and_nan_in_a_body_are_findings_not_crashes() -> None:
    from conformance.wire.sse import loads_checked

    value, duplicates = loads_checked('{"id": "a", "id": "b"}')
    assert value == {"id": "b"} and duplicates == ["key 'id'"]
    nan, _ = loads_checked('{"created": NaN}')  # read, so that the answer is judged and json.strict reports it
    assert nan["created"] != nan["created"]
    from conformance.checks import CheckContext, run_checks

    strict = [f for f in run_checks(CheckContext("chat.completion", body=nan)) if f.check == "json.strict"]
    assert [(f.pointer, f.severity.value) for f in strict] == [("/created", "failure")]
    with pytest.raises(ValueError):
        loads_checked("[" * 100_000)


def test_double_sigint_to_the_process_group_of_a_parallel_rerecord_keeps_the_last_report(
        tmp_path: Path, canary_key: str) -> None:
    need_every_surface()
    args = ["run", "--target", PROFILE, "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
            "-k", "chat.system_user or n.one or tools.auto or tools.none"]

    def stall_tools(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        return Reply(reply.status, reply.body, stall_s=15) if request.get("tools") else reply

    with running(canary_key) as server:
        first = conformance(*args, "--base-url", server.base_url, "--record-mode", "once", key=canary_key)
        assert first.returncode == 0, first.stderr
        before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
        server.mutations.append(stall_tools)
        env = user_env(tmp_path, CONFORMANCE_STANDIN_KEY=canary_key)
        process = subprocess.Popen([sys.executable, "-m", "conformance.cli", *args, "--base-url", server.base_url,
                                    "--record-mode", "rewrite", "-n", "2"], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=default_signals, start_new_session=True)
        deadline = time.monotonic() + 60
        while sum(1 for _, _, r in server.requests if r.get("tools")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(2):
            os.killpg(process.pid, signal.SIGINT)
            time.sleep(0.2)
        process.communicate(timeout=60)
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert after == before  # the last complete report, every file of it, byte for byte
    assert process.returncode != 0


def test_proxy_shuts_down_within_its_bound_whatever_a_client_does() -> None:
    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import RecordingProxy
    from conformance.wire.scrub import Scrubber

    with RecordingProxy("http://127.0.0.1:9/v1/", {}, {}, Capture(Scrubber()), timeout_s=1) as proxy:
        port = int(proxy.base_url.split(":")[2].split("/")[0])
        stuck = socket.create_connection(("127.0.0.1", port))
        stuck.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{")
        time.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 10
    stuck.close()


def test_a_request_for_a_case_already_over_is_refused_not_filed_under_the_next(canary_key: str) -> None:
    """Every case gets its own route on the process's one listener: a late client reaches no other case."""
    import httpx

    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import RecordingProxy
    from conformance.wire.scrub import Scrubber

    with running(canary_key) as server:
        auth = {"Authorization": f"Bearer {canary_key}"}
        with RecordingProxy(server.base_url, auth, {}, Capture(Scrubber([canary_key])), timeout_s=10) as first:
            over = first.base_url
        later = Capture(Scrubber([canary_key]))
        with RecordingProxy(server.base_url, auth, {}, later, timeout_s=10) as second:
            assert second.base_url != over and second.base_url.split("/")[2] == over.split("/")[2]  # one listener
            late = httpx.post(over + "chat/completions", timeout=10, json={"model": "standin-chat", "messages": []})
    assert late.status_code == 404 and late.json()["error"]["code"] == "no_such_route"
    assert later.exchanges == [] and len(server.requests) == 0


def test_capture_pairs_each_response_with_its_own_request(canary_key: str) -> None:
    """Concurrent clients through one proxy: no answer is filed under another client's request."""
    import httpx

    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import RecordingProxy
    from conformance.wire.scrub import Scrubber

    def slow_for_first(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        reply.body = {**reply.body, "echo": request.get("messages", [{}])[0].get("content")}
        if request.get("messages", [{}])[0].get("content") == "client-0":
            reply.stall_s = 0.5
        return reply

    with running(canary_key) as server:
        server.mutations.append(slow_for_first)
        capture = Capture(Scrubber([canary_key]))
        with RecordingProxy(server.base_url, {"Authorization": f"Bearer {canary_key}"}, {}, capture,
                            timeout_s=10) as proxy:
            def ask(number: int) -> None:
                httpx.post(proxy.base_url + "chat/completions", timeout=10, json={
                    "model": "standin-chat", "messages": [{"role": "user", "content": f"client-{number}"}]})

            threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert len(capture.exchanges) == 6
    for exchange in capture.exchanges:
        sent = json.loads(exchange.request_body)["messages"][0]["content"]
        assert json.loads(exchange.response_body)["echo"] == sent


def test_query_key_never_follows_a_redirect_through_the_proxy(tmp_path: Path, canary_key: str) -> None:
    need_every_surface()
    source = (REPO / "tests" / "standin" / "standin.toml").read_text()
    profile = tmp_path / "query.toml"
    profile.write_text(source.replace("embedding_size = 8", 'embedding_size = 8\nauth = "query:key"'))
    with h.hostile(canary_key) as server, h.hostile(canary_key, host="127.0.0.2") as elsewhere:
        def redirect(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
            handler.send(307, "Temporary Redirect", {"location": f"{elsewhere.base_url}chat/completions?"
                                                                 f"key={canary_key}"}, b"")

        server.on(h.for_case("chat.system_user"), redirect)
        result = conformance("run", "--target", str(profile), "--base-url", server.base_url, "--record-mode", "once",
                             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
                             "-k", "chat.system_user", "--timeout", "5", key=canary_key)
        assert any(f"key={canary_key}" in line for line, _, _ in server.requests)  # the key did travel there
        assert elsewhere.requests == []
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert {r["verdict"] for r in report["results"]} == {"ERROR"}
    assert canary_key not in result.stdout + result.stderr + json.dumps(report)
