"""One live request per distinct request: surfaces share the server's answer, and say so. Requests are counted by
the SYNTHETIC stand-in server (tests/standin), on loopback, not by the suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from tests.conftest import need_every_surface, run_exit_code
from tests.standin.server import running


def _live(tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch, *extra: str, name: str = "s"
          ) -> tuple[int, int, dict[str, Any]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", key)
    with running(key) as server:
        code = main(["run", "--base-url", server.base_url, "--api-key-env", "STANDIN_KEY", "--name", name,
                     "--chat-model", "standin-chat", "--embedding-model", "standin-embed", "--record-mode", "once",
                     "--catalogue", "full", "--batch-wait", "3", *extra])  # polls 0.3 s apart, not 2 s
        sent = [path for path, _, _ in server.requests]
    report = json.loads((tmp_path / "reports" / name / "report.json").read_text())
    return code, sent, report


def _verdicts(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, list[tuple[str, str]]]]:
    return {(r["case"], r["surface"]): (r["verdict"], sorted((f["check"], f["pointer"]) for f in r["findings"]))
            for r in report["results"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import CANARY_KEY

    need_every_surface()
    monkeypatch = pytest.MonkeyPatch()
    try:
        shared_dir, unshared_dir = tmp_path_factory.mktemp("shared"), tmp_path_factory.mktemp("unshared")
        shared = _live(shared_dir, CANARY_KEY, monkeypatch)
        unshared = _live(unshared_dir, CANARY_KEY, monkeypatch, "--no-share")
    finally:
        monkeypatch.undo()
    return {"shared": shared, "unshared": unshared, "dir": shared_dir}


def test_the_full_catalogue_sends_at_most_0_3_requests_per_result(runs: dict[str, Any]) -> None:
    """Batch API lifecycles are counted apart: each surface's batch is its own (its polls are of that batch), so
    they are never shared, and are held to the lifecycle's own bound instead."""
    from conformance.api.batches.lifecycle import planned_batch_requests
    from conformance.run.options import DEFAULT_BATCH_WAIT_S

    code, sent, report = runs["shared"]
    lifecycle = [p for p in sent if "/files" in p or "/batches" in p]
    batch_rows = [r for r in report["results"] if r["feature"] == "Batch API"]
    results = len(report["results"]) - len(batch_rows)
    assert code == 0 and results > 250 and batch_rows
    assert (len(sent) - len(lifecycle)) / results <= 0.3, f"{len(sent) - len(lifecycle)} requests for {results} results"
    assert len(lifecycle) <= len(batch_rows) * planned_batch_requests(DEFAULT_BATCH_WAIT_S)
    _, sent_unshared, _ = runs["unshared"]
    assert len(sent_unshared) >= len(report["results"])  # every surface live: one a result, more for conversations


def test_shared_and_unshared_live_runs_give_identical_verdicts(runs: dict[str, Any]) -> None:
    assert _verdicts(runs["shared"][2]) == _verdicts(runs["unshared"][2])


def test_each_result_and_cassette_says_whether_its_answer_was_shared(runs: dict[str, Any]) -> None:
    report = runs["shared"][2]
    rows = {(r["case"], r["surface"]): r for r in report["results"]}
    assert rows[("chat.system_user", "python-sdk")]["answered"] == "live"
    shared = rows[("chat.system_user", "curl")]
    assert shared["answered"] == "shared from python-sdk"
    assert "duration_s" not in shared and "elapsed_s" not in shared["exchange"]  # a live run's timings stay out
    provenance = yaml.safe_load((runs["dir"] / "cassettes" / "s" / "rest" / "chat.system_user.yaml").read_text()
                                )["provenance"]
    assert provenance["answers"] == ["shared from python-sdk"]
    live = yaml.safe_load((runs["dir"] / "cassettes" / "s" / "python-sdk" / "chat.system_user.yaml").read_text())
    assert live["provenance"]["answers"] == ["live"]


def test_a_request_that_differs_goes_live_and_says_where(runs: dict[str, Any]) -> None:
    rows = {(r["case"], r["surface"]): r for r in runs["shared"][2]["results"]}
    answered = rows[("structured.json_schema", "rest")]["answered"]
    assert answered.startswith("live: the request differs from python-sdk's at /response_format/json_schema/")


def test_a_replay_of_shared_cassettes_is_offline_and_keeps_the_notes(runs: dict[str, Any]) -> None:
    folder = runs["dir"]
    assert main(["run", "--base-url", "http://127.0.0.1:9/v1/", "--name", "s", "--chat-model", "standin-chat",
                 "--embedding-model", "standin-embed", "--cassette-dir", str(folder / "cassettes" / "s"),
                 "--report-dir", str(folder / "replay")]) == 0
    replay = json.loads((folder / "replay" / "report.json").read_text())
    assert _verdicts(replay) == _verdicts(runs["shared"][2])
    assert {(r["case"], r["surface"]): r.get("answered") for r in replay["results"]} == \
        {(r["case"], r["surface"]): r.get("answered") for r in runs["shared"][2]["results"]}


def test_no_key_in_any_shared_cassette(runs: dict[str, Any]) -> None:
    from tests.conftest import CANARY_KEY

    for path in (runs["dir"] / "cassettes").rglob("*.yaml"):
        assert CANARY_KEY not in path.read_text(), path


def test_a_run_over_the_daily_quota_sends_only_what_the_quota_allows(tmp_path: Path, canary_key: str,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        profile = tmp_path / "quota.toml"
        profile.write_text(f'[target]\nname = "quota"\nbase_url = "{server.base_url}"\napi_key_env = "STANDIN_KEY"\n'
                           'chat_model = "standin-chat"\nembedding_model = "standin-embed"\nrpd = 5\n'
                           'rpd_source = "a test quota"\n')
        code = main(["run", "--target", str(profile), "--record-mode", "once", "--surfaces", "rest"])
        sent = [path for path, _, _ in server.requests if path != "/v1/models"]
    err = capsys.readouterr().err
    report = json.loads((tmp_path / "reports" / "quota" / "report.json").read_text())
    assert code == run_exit_code(report) and 0 < len(sent) <= 5, sent
    assert "more than the 5 a day" in err and "a test quota" in err
    assert err.index("distinct request(s)") < err.index("more than the 5 a day")  # the estimate came first
    rows = json.loads((tmp_path / "reports" / "quota" / "report.json").read_text())["results"]
    assert sum(r["verdict"] == "NOT RUN" for r in rows) == len(rows) - len(sent)
    assert err.strip().splitlines()[-1].startswith("conformance run --target")


def test_the_gate_pools_a_shared_answer_once() -> None:
    from conformance.report.diff import behaviour_changes

    def result(surface: str, passed: int, answered: str) -> dict[str, Any]:
        return {"case": "c", "surface": surface, "samples": 10, "answered": answered,
                "expectations": {"tools.auto.called": {"nature": "behaviour", "passed": passed, "samples": 10}}}

    # 7/10 -> 3/10 on the one live surface is not significant at 0.01; four copies of it would look like 28/40 ->
    # 12/40, which is.
    old = {("c", s): result(s, 7, "live" if s == "python-sdk" else "shared from python-sdk")
           for s in ("python-sdk", "rest", "node-sdk", "curl")}
    new = {("c", s): result(s, 3, "live" if s == "python-sdk" else "shared from python-sdk")
           for s in ("python-sdk", "rest", "node-sdk", "curl")}
    (change,) = behaviour_changes(old, new)
    assert "3/10" in change.note and "7/10" in change.note and change.kind != "regression"
