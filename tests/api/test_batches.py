"""The Batch API lifecycle (conformance/api/batches/lifecycle.py) against the SYNTHETIC stand-in's Batch API
(tests/standin/
batches.py), on loopback: upload, create, poll, the output judged line by line, every file deleted; a batch that
does not end in time, one that fails, a refused deletion, a wrong output file, and a run stopped half-way."""

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

from conformance.api.batches.leftovers import Ledger, describe, gather
from conformance.cli import main
from conformance.model.findings import Severity
from tests.conftest import default_signals
from tests.standin.server import StandinServer, running

ROOT = Path(__file__).resolve().parents[2]
CASE = "batch.chat_completions"


def _profile(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "standin.toml"
    path.write_text(f'[target]\nname = "standin"\nbase_url = "{base_url}"\napi_key_env = "STANDIN_KEY"\n'
                    'chat_model = "standin-chat"\nembedding_model = "standin-embed"\n')
    return path


def _run(tmp_path: Path, server: StandinServer, *extra: str, record: bool = True, report: str = "r",
         surfaces: str = "python-sdk,rest") -> dict[str, dict[str, Any]]:
    args = ["run", "--target", str(_profile(tmp_path, server.base_url)), "-k", CASE, "--catalogue", "full",
            "--gaps", "none", "--surfaces", surfaces, "--cassette-dir", str(tmp_path / "c"),
            "--report-dir", str(tmp_path / report),
            # The stand-in's batch ends after a poll or two: a short wait makes polls 0.3 s apart, not 2 s (a
            # test's own --batch-wait, later on the line, wins).
            "--batch-wait", "3", *extra]
    main(args + (["--record-mode", "once"] if record else []))
    rows = json.loads((tmp_path / report / "report.json").read_text())["results"]
    return {r["surface"]: r for r in rows}


@pytest.fixture
def standin(canary_key: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        yield server


def test_the_whole_lifecycle_on_every_surface_passes_deletes_its_files_and_replays_the_same(
        tmp_path: Path, standin: StandinServer, canary_key: str) -> None:
    from conformance.surfaces import SURFACES

    surfaces = ",".join(name for name, surface in SURFACES.items() if surface.unavailable() is None)
    standin.batch_api.polls_to_finish = 2
    live = _run(tmp_path, standin, surfaces=surfaces)
    assert {s: r["verdict"] for s, r in live.items()} == {s: "PASS" for s in surfaces.split(",")}, live
    for row in live.values():
        assert [s["name"] for s in row["steps"]] == ["upload", "create", "retrieve", "retrieve", "read output",
                                                     "delete file", "delete file"]
    assert standin.batch_api.remaining() == []  # the uploaded file and the output file: both deleted
    uploads = [r for p, _, r in standin.requests if p.endswith("/files")]
    assert all(json.loads(u["file"]["content"].splitlines()[0])["body"]["model"] == "standin-chat" for u in uploads)
    replay = _run(tmp_path, standin, record=False, report="r2", surfaces=surfaces)
    assert {s: (r["verdict"], r["reason"], r["findings"]) for s, r in replay.items()} == \
        {s: (r["verdict"], r["reason"], r["findings"]) for s, r in live.items()}
    for cassette in (tmp_path / "c").rglob("*.yaml"):
        assert canary_key not in cassette.read_text()
    assert not (tmp_path / "r" / "left-on-server.json").exists()


def test_a_batch_that_does_not_end_in_time_is_cancelled_its_file_deleted_and_not_run(
        tmp_path: Path, standin: StandinServer) -> None:
    standin.batch_api.polls_to_finish = 10**6
    started = time.monotonic()
    row = _run(tmp_path, standin, "--batch-wait", "1", surfaces="rest")["rest"]
    assert time.monotonic() - started < 30
    assert row["verdict"] == "NOT RUN" and "had not finished" in row["reason"] and "not judged" in row["reason"]
    assert standin.batch_api.cancelled and standin.batch_api.remaining() == []
    replayed = _run(tmp_path, standin, record=False, report="r2", surfaces="rest")["rest"]
    assert (replayed["verdict"], replayed["reason"]) == (row["verdict"], row["reason"])


def test_a_failed_batch_of_valid_requests_fails_with_the_servers_reason(tmp_path: Path,
                                                                        standin: StandinServer) -> None:
    standin.batch_api.final_status = "failed"
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    assert row["verdict"] == "FAIL" and "ended 'failed'" in row["reason"] and "told to fail" in row["reason"]
    assert standin.batch_api.remaining() == []


@pytest.mark.parametrize(("mutation", "check", "pointer"), [
    (lambda lines: lines[:1], "batch.output.custom_ids", ""),
    (lambda lines: [lines[0], lines[0]], "batch.output.custom_ids", "/1/custom_id"),
    (lambda lines: [lines[0], "{not json"], "batch.output.jsonl", "/1"),
    (lambda lines: [lines[0], {**lines[1], "response": {**lines[1]["response"], "body": {
        k: v for k, v in lines[1]["response"]["body"].items() if k != "choices"}}}],
     "schema.chat.completion", "/1/response/body/choices"),
    (lambda lines: [lines[0], {**lines[1], "response": {**lines[1]["response"], "status_code": 500}}],
     "batch.output.bodies", "/1/response/status_code"),
    (lambda lines: [{k: v for k, v in line.items() if k != "error"} for line in lines],
     "schema.batch.output", "/0/error"),
], ids=["a-request-missing", "a-line-twice", "a-line-not-json", "a-body-without-choices", "a-failed-line",
        "no-error-field"])
def test_a_wrong_output_file_is_found_at_its_line(tmp_path: Path, standin: StandinServer, mutation: Any,
                                                  check: str, pointer: str) -> None:
    standin.batch_api.output_mutation = mutation
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    found = {(f["check"], f["pointer"]) for f in row["findings"]}
    assert (check, pointer) in found, row["findings"]
    # The row's verdict is its worst finding's: any failure makes it FAIL, deviations alone DEVIATION.
    worst = "FAIL" if any(f["severity"] == Severity.FAILURE.value for f in row["findings"]) else "DEVIATION"
    assert row["verdict"] == worst


def test_a_server_without_the_batch_api_is_unsupported_at_the_upload(tmp_path: Path,
                                                                    standin: StandinServer) -> None:
    standin.batch_api.unsupported = True
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    assert row["verdict"] == "UNSUPPORTED" and row["reason"].startswith("step 1 (upload): HTTP 404")
    assert [s["name"] for s in row["steps"]] == ["upload"]


def test_a_refused_deletion_is_a_finding_and_the_run_says_what_it_left(
        tmp_path: Path, standin: StandinServer, capsys: pytest.CaptureFixture[str]) -> None:
    standin.batch_api.refuse_delete = True
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    assert "batch.file.deleted" in {f["check"] for f in row["findings"]}
    left = json.loads((tmp_path / "r" / "left-on-server.json").read_text())
    assert sorted(item["id"] for item in left) == standin.batch_api.remaining()
    err = capsys.readouterr().err
    assert "the server still holds 2 thing(s)" in err and all(f"DELETE {standin.base_url.rstrip('/')}/files/{i}" in err
                                                               for i in standin.batch_api.remaining())


def test_a_run_stopped_half_way_says_what_it_left_on_the_server(tmp_path: Path, canary_key: str) -> None:
    """A real interrupt: SIGINT to a recording run while it waits for its batch. The stand-in refuses deletions, so
    the uploaded file and the running batch stay, and the run's last lines say so."""
    with running(canary_key) as server:
        server.batch_api.polls_to_finish = 10**6
        server.batch_api.refuse_delete = True
        env = {**os.environ, "STANDIN_KEY": canary_key}
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "run", "--target", str(_profile(tmp_path, server.base_url)),
             "--record-mode", "once", "-k", CASE, "--catalogue", "full", "--surfaces", "rest", "--batch-wait", "120",
             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
        deadline = time.monotonic() + 60
        while not any(server.batch_api.polls.values()) and time.monotonic() < deadline:
            time.sleep(0.1)  # the batch created and polled once: its id is on the ledger by then
        assert any(server.batch_api.polls.values()), "the run never polled its batch"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        batch_id = next(iter(server.batch_api.batches))
        held = server.batch_api.remaining()
    assert process.returncode == 130 or "interrupted" in err, err
    assert "the server still holds 2 thing(s)" in err, err
    assert held and all(file_id in err for file_id in held) and f"batches/{batch_id}/cancel" in err
    assert canary_key not in err


def test_ledgers_of_several_processes_are_gathered_into_one_summary(tmp_path: Path) -> None:
    first = Ledger(tmp_path, CASE, "rest")
    first.add("file", "file-1", "the uploaded batch input")
    first.add("batch", "batch-1", "a batch the run created")
    first.remove("batch", "batch-1")
    done = Ledger(tmp_path, CASE, "python-sdk")  # another lifecycle of the same process, all of it removed
    done.add("file", "file-3", "the uploaded batch input")
    done.remove("file", "file-3")
    (tmp_path / ".left-on-server.99999.json").write_text(json.dumps({"file-2": {
        "kind": "file", "id": "file-2", "what": "the batch's output file", "case": CASE, "surface": "curl"}}))
    items = gather(tmp_path)
    assert [i["id"] for i in items] == ["file-2", "file-1"]
    assert not list(tmp_path.glob(".left-on-server.*.json"))
    text = describe(items, "http://127.0.0.1:1/v1/", tmp_path / "left-on-server.json")
    assert "DELETE http://127.0.0.1:1/v1/files/file-1" in text and "batch-1" not in text
    stopped = Ledger(tmp_path, CASE, "node-sdk")  # stopped while the create request was in flight
    stopped.add("pending", "create", "a batch was being created from file-9: it may be running")
    text = describe(gather(tmp_path), "http://127.0.0.1:1/v1/", tmp_path / "left-on-server.json")
    assert "a batch was being created from file-9" in text and "GET http://127.0.0.1:1/v1/batches" in text
    stopped.remove("pending", "create")
    assert gather(tmp_path) == [] and not (tmp_path / "left-on-server.json").exists()


def test_a_file_and_a_batch_with_the_same_id_are_two_entries(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, CASE, "rest")
    ledger.add("file", "same-1", "the uploaded batch input")
    ledger.add("batch", "same-1", "a batch the run created")
    ledger.remove("batch", "same-1")  # the batch ended; the file is still there
    assert [(i["kind"], i["id"]) for i in gather(tmp_path)] == [("file", "same-1")]


def _on(endpoint_test: Any, change: Any) -> Any:
    """A stand-in mutation: ``change`` the JSON answer of the requests ``endpoint_test(path, request)`` selects."""
    from tests.standin.server import Reply

    def mutation(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if endpoint_test(path, request) and isinstance(reply.body, dict):
            reply.body = change(dict(reply.body))
        return reply

    return mutation


@pytest.mark.parametrize(("endpoint_test", "change", "check", "pointer"), [
    (lambda path, request: path.endswith("/files") and "file" in request, lambda body: {**body, "bytes": 1},
     "batch.file.upload", "/bytes"),
    (lambda path, request: path.endswith("/batches"), lambda body: {**body, "endpoint": "/v1/embeddings"},
     "batch.create.echo", "/endpoint"),
    (lambda path, request: "/batches/" in path,
     lambda body: {**body, "request_counts": {"total": 2, "completed": 1, "failed": 0}}
     if body.get("status") == "completed" else body, "batch.request_counts", "/request_counts"),
    (lambda path, request: "/files/" in path and not path.endswith("/content"),
     lambda body: {**body, "deleted": False}, "batch.file.deleted", "/deleted"),
], ids=["upload-size", "create-endpoint", "counts", "not-deleted"])
def test_a_wrong_lifecycle_answer_is_found(tmp_path: Path, standin: StandinServer, endpoint_test: Any, change: Any,
                                           check: str, pointer: str) -> None:
    standin.mutations.append(_on(endpoint_test, change))
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    assert (check, pointer) in {(f["check"], f["pointer"]) for f in row["findings"]}, row["findings"]


# The batch checks whose crafted deviations live here (tests/api/test_checks.py counts them as covered).
COVERED_CHECKS = ("batch.file.upload", "batch.create.echo", "batch.request_counts", "batch.file.deleted",
                  "batch.output.custom_ids", "batch.output.jsonl", "batch.output.bodies")


def test_an_id_that_would_steer_the_next_request_elsewhere_is_not_followed(tmp_path: Path,
                                                                           standin: StandinServer) -> None:
    standin.mutations.append(_on(lambda path, request: path.endswith("/files") and "file" in request,
                                 lambda body: {**body, "id": "../models"}))
    row = _run(tmp_path, standin, surfaces="rest")["rest"]
    assert row["verdict"] == "FAIL" and "no id to create a batch with (it says '../models')" in row["reason"]
    assert [p for p, _, _ in standin.requests if "batches" in p] == []
    assert [s["name"] for s in row["steps"]] == ["upload"]


def test_an_embeddings_batch_is_judged_line_by_line_as_embeddings(tmp_path: Path, standin: StandinServer) -> None:
    args = ["run", "--target", str(_profile(tmp_path, standin.base_url)), "-k", "batch.embedding_requests",
            "--catalogue", "full", "--gaps", "none", "--surfaces", "rest", "--cassette-dir", str(tmp_path / "c"),
            "--report-dir", str(tmp_path / "r"), "--record-mode", "once"]
    def one_vector_short(lines: list[dict[str, Any]]) -> list[Any]:
        response = lines[1]["response"]
        short = {**response, "body": {**response["body"], "data": response["body"]["data"][:1]}}
        return [lines[0], {**lines[1], "response": short}]

    standin.batch_api.output_mutation = one_vector_short
    main(args)
    row = json.loads((tmp_path / "r" / "report.json").read_text())["results"][0]
    created = next(r for p, _, r in standin.requests if p.endswith("/batches"))
    assert created["endpoint"] == "/v1/embeddings"
    upload = next(r for p, _, r in standin.requests if p.endswith("/files"))
    assert json.loads(upload["file"]["content"].splitlines()[0])["body"]["model"] == "standin-embed"
    # The second request sent two inputs and got one vector back: the embeddings checks find it at its line.
    assert any(f["pointer"].startswith("/1/response/body/data") for f in row["findings"]), row["findings"]
    assert row["verdict"] == "FAIL" and standin.batch_api.remaining() == []


def test_a_run_stopped_while_its_batch_is_being_created_says_where_to_look(tmp_path: Path, canary_key: str) -> None:
    """The server has made the batch, its answer is still in flight: the run cannot know the id, and says so."""
    from tests.standin.server import Reply

    def slow_create(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.endswith("/batches"):
            reply.stall_s = 5.0
        return reply

    with running(canary_key) as server:
        server.mutations.append(slow_create)
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "run", "--target", str(_profile(tmp_path, server.base_url)),
             "--record-mode", "once", "-k", CASE, "--catalogue", "full", "--surfaces", "rest",
             "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")],
            cwd=ROOT, env={**os.environ, "STANDIN_KEY": canary_key}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=default_signals)
        deadline = time.monotonic() + 60
        while not server.batch_api.batches and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert "a batch was being created from file-standin-0" in err, err
    assert f"GET {server.base_url.rstrip('/')}/batches" in err


def test_an_id_with_a_slash_stays_one_path_segment_on_every_surface(tmp_path: Path, standin: StandinServer) -> None:
    """'batch_1/cancel' must not turn a poll into a cancel, nor 'victim/content' a delete into a read."""
    standin.mutations.append(_on(lambda path, request: path.endswith("/batches") and request,
                                 lambda body: {**body, "id": "batch_1/cancel"}))
    _run(tmp_path, standin, "--batch-wait", "3", surfaces="python-sdk,rest,node-sdk,curl")
    polls = [(p, request) for p, _, request in standin.requests if "/batches/" in p]
    assert len(polls) >= 4 and all(p.endswith("/batches/batch_1%2Fcancel") for p, _ in polls), polls
    standin.mutations[:] = [_on(lambda path, request: path.endswith("/files") and "file" in request,
                                lambda body: {**body, "id": "victim/content"})]
    standin.requests.clear()
    _run(tmp_path, standin, "--batch-wait", "3", "--cassette-dir", str(tmp_path / "c2"),
         surfaces="python-sdk,rest,node-sdk,curl", report="r2")
    paths = [p for p, _, _ in standin.requests if "/files/" in p]
    assert len(paths) == 4 and all(p.endswith("/files/victim%2Fcontent") for p in paths), paths


@pytest.mark.parametrize("where", ["create", "poll"])
def test_a_lifecycle_answered_with_the_wrong_kind_of_object_fails_at_once(tmp_path: Path, standin: StandinServer,
                                                                          where: str) -> None:
    chat = {"id": "chatcmpl-123", "object": "chat.completion", "created": 1, "model": "m", "choices": []}

    def wrong(path: str, request: dict[str, Any], reply: Any) -> Any:
        from tests.standin.server import Reply

        hit = path.endswith("/batches") and bool(request) if where == "create" else "/batches/" in path
        return Reply(200, dict(chat)) if hit else reply

    standin.mutations.append(wrong)
    started = time.monotonic()
    row = _run(tmp_path, standin, "--batch-wait", "60", surfaces="rest")["rest"]
    assert time.monotonic() - started < 20  # not the whole --batch-wait
    assert row["verdict"] == "FAIL" and "'chat.completion' object, not a 'batch'" in row["reason"], row["reason"]
    assert row["gated_verdict"] == "FAIL"  # no manifest: a FAIL is never passed off as its findings' DEVIATION
    polls = [p for p, _, _ in standin.requests if "/batches/" in p]
    assert len(polls) == (0 if where == "create" else 1)
