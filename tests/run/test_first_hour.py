"""A new user's first hour: the mistakes people make on a first run end before anything is written, with the
command that fixes them on the last line; a recording's report is its replay's; headline numbers are honest.
Servers here are the SYNTHETIC stand-in, on loopback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_exit_code
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin.server import Reply, running

FEW = "chat.system_user or stream.basic or embeddings.single"


def _run(server_url: str, tmp: Path, key: str, *extra: str, mode: str = "once") -> Any:
    return conformance("run", "--target", PROFILE, "--base-url", server_url, "--record-mode", mode,
                       "--cassette-dir", str(tmp / "c"), "--report-dir", str(tmp / "r"), "--surfaces", "rest",
                       "-k", FEW, *extra, key=key)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _refuse(status: int, *, only: str = "") -> Any:
    def mutation(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if only and not path.endswith(only):
            return reply
        return Reply(status, {"error": {"message": "API key not valid", "type": "invalid_request_error",
                                        "param": None, "code": "invalid_api_key"}})
    return mutation


def test_a_refused_key_on_the_model_list_stops_before_any_case_and_writes_nothing(tmp_path: Path,
                                                                                  canary_key: str) -> None:
    with running(canary_key) as server:
        server.mutations.append(_refuse(401))
        result = _run(server.base_url, tmp_path, canary_key)
        sent = [p for p, _, _ in server.requests]
    assert result.returncode == 2, result.stderr
    assert sent == ["/v1/models"]
    assert _files(tmp_path / "c") == [] and _files(tmp_path / "r") == []
    lines = result.stderr.strip().splitlines()
    assert "refused the key in CONFORMANCE_STANDIN_KEY (HTTP 401" in lines[-2]
    assert lines[-1].startswith(f"conformance run --target {PROFILE} --base-url {server.base_url}")


@pytest.mark.parametrize("status", [401, 403])
def test_a_key_refused_on_the_first_request_stops_the_run_and_keeps_no_cassette(tmp_path: Path, canary_key: str,
                                                                                status: int) -> None:
    """A server whose model list takes any key (or has none) and refuses the key on the first real request."""
    with running(canary_key) as server:
        server.mutations.append(_refuse(status, only="/chat/completions"))
        result = _run(server.base_url, tmp_path, canary_key)
        chats = [p for p, _, _ in server.requests if p.endswith("/chat/completions")]
    assert result.returncode == 2, result.stderr
    assert len(chats) == 1  # stopped at the first answer, not after every case
    assert _files(tmp_path / "c") == [] and _files(tmp_path / "r") == []
    assert f"HTTP {status} on chat.system_user, the run's first request" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("conformance run --target")


def test_a_later_refusal_is_not_kept_as_a_recording(tmp_path: Path, canary_key: str) -> None:
    """Once the key worked, a 403 on one endpoint (a key without access to embeddings) costs that case, not the
    run; its answer is not kept, so a replay after the key is fixed does not repeat it."""
    with running(canary_key) as server:
        server.mutations.append(_refuse(403, only="/embeddings"))
        result = _run(server.base_url, tmp_path, canary_key)
    assert result.returncode == run_exit_code(json.loads((tmp_path / "r" / "report.json").read_text())), \
        result.stderr
    assert _files(tmp_path / "c") == ["rest/chat.system_user.yaml", "rest/stream.basic.yaml"]
    rows = {r["case"]: r for r in json.loads((tmp_path / "r" / "report.json").read_text())["results"]}
    assert "not recorded: HTTP 403 to the run's own key" in rows["embeddings.single"]["reason"]


def test_a_base_url_without_v1_stops_with_the_url_that_answers(tmp_path: Path, canary_key: str) -> None:
    def only_under_v1(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.startswith("/v1/"):
            return reply
        return Reply(404, {"detail": "Not Found"})

    with running(canary_key) as server:
        server.mutations.append(only_under_v1)
        bare = server.base_url.removesuffix("v1/")
        result = _run(bare, tmp_path, canary_key)
        sent = [p for p, _, _ in server.requests]
    assert result.returncode == 2, result.stderr
    assert sent == ["/models", "/v1/models"]
    assert "the base URL probably lacks /v1" in result.stderr
    assert f"--base-url {server.base_url} " in result.stderr.strip().splitlines()[-1]
    assert _files(tmp_path / "c") == [] and _files(tmp_path / "r") == []


def test_a_server_that_answers_404_to_everything_is_no_pass_and_no_baseline(tmp_path: Path, canary_key: str) -> None:
    with running(canary_key) as server:
        server.mutations.append(lambda path, request, reply: Reply(404, {"detail": "Not Found"}))
        result = _run(server.base_url, tmp_path, canary_key, "--baseline", str(tmp_path / "baseline.json"))
    assert result.returncode == 1, result.stderr
    assert "the server refused every request (HTTP 404)" in result.stderr
    assert "lacks its version path" in result.stderr
    assert not (tmp_path / "baseline.json").exists()


def test_a_dry_run_makes_the_pre_checks_of_a_run(tmp_path: Path, canary_key: str) -> None:
    no_key = conformance("run", "--target", PROFILE, "--record-mode", "once", "--dry-run",
                         "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"))
    assert no_key.returncode == 2 and "needs an API key" in no_key.stderr
    nothing = conformance("run", "--target", PROFILE, "--dry-run", "--cassette-dir", str(tmp_path / "c"),
                          "--report-dir", str(tmp_path / "r"))
    assert nothing.returncode == 2 and "a replay would judge 0 of" in nothing.stderr
    assert nothing.stderr.strip().splitlines()[-1].startswith("conformance run --target")
    profile = tmp_path / "daily.toml"
    profile.write_text((REPO / "tests" / "standin" / "standin.toml").read_text() + "rpd = 10\n")
    quota = conformance("run", "--target", str(profile), "--record-mode", "once", "--dry-run",
                        "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"), key=canary_key)
    assert quota.returncode == 0 and "more than the 10 a day" in quota.stderr and "sends the cases that fit" in \
        quota.stderr
    assert _files(tmp_path) == ["daily.toml"]  # a dry run writes nothing, not even a folder


def test_a_run_over_the_daily_quota_sends_what_fits_and_the_next_run_records_the_rest(tmp_path: Path,
                                                                                      canary_key: str) -> None:
    """A free-tier key: 3 cases (6 runs on two surfaces, 3 distinct requests) and 2 requests a day."""
    profile = tmp_path / "daily.toml"
    profile.write_text((REPO / "tests" / "standin" / "standin.toml").read_text() + "rpd = 2\n")
    with running(canary_key) as server:
        args = ["run", "--target", str(profile), "--base-url", server.base_url, "--record-mode", "once",
                "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
                "--surfaces", "rest,python-sdk", "-k", FEW]
        first = conformance(*args, key=canary_key)
        sent_first = [p for p, _, _ in server.requests if not p.endswith("/models")]
        rows = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
        server.requests.clear()
        second = conformance(*args, key=canary_key)
        sent_second = [p for p, _, _ in server.requests if not p.endswith("/models")]
    assert first.returncode == 0, first.stderr
    assert "more than the 2 a day" in first.stderr and len(sent_first) == 2
    assert first.stderr.strip().splitlines()[-1].startswith("conformance run --target")
    assert sorted(r["verdict"] for r in rows) == ["NOT RUN", "NOT RUN", "PASS", "PASS", "PASS", "PASS"]
    assert second.returncode == 0, second.stderr
    assert len(sent_second) == 1  # only the case the quota left
    rows = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
    assert {r["verdict"] for r in rows} == {"PASS"}


def test_a_recording_and_its_replay_write_the_same_report(tmp_path: Path, canary_key: str) -> None:
    with running(canary_key) as server:
        args = ["run", "--target", PROFILE, "--base-url", server.base_url, "--cassette-dir", str(tmp_path / "c"),
                "--report-dir", str(tmp_path / "r"), "-k", FEW + " or flow.chat_continued"]
        recorded = conformance(*args, "--record-mode", "once", key=canary_key)
        assert recorded.returncode == 0, recorded.stderr
        shutil.copytree(tmp_path / "r", tmp_path / "recorded")
    replayed = conformance(*args)
    assert replayed.returncode == 0, replayed.stderr
    for name in ("report.json", "report.md", "report.html", "badge.json"):
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "recorded" / name).read_bytes(), name
    run = json.loads((tmp_path / "r" / "report.json").read_text())["run"]
    assert set(run) == {"recorded", "python", "versions"}


def test_a_replay_with_other_client_versions_says_so_and_diff_tells_it_apart(tmp_path: Path) -> None:
    committed = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    committed["run"]["versions"]["openai"] = "0.0.1"
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(committed))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(committed))
    result = conformance("run", "--target", "llamacpp", "--report-dir", str(folder), "-k", "chat.system_user")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "other client versions" in line]
    assert len(notes) == 1 and "openai 0.0.1 -> " in notes[0]
    diff = conformance("diff", str(old), str(folder / "report.json"))
    assert diff.stdout.splitlines()[0].startswith("client versions changed (not a verdict change): openai 0.0.1 ->")


def test_the_gate_calls_a_vanished_result_a_regression(tmp_path: Path) -> None:
    committed = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    fewer = {**committed, "results": committed["results"][:-4]}
    (tmp_path / "fewer.json").write_text(json.dumps(fewer))
    result = conformance("diff", str(REPO / "reports" / "llamacpp" / "report.json"), str(tmp_path / "fewer.json"))
    assert result.returncode == 1 and "removed" in result.stdout


def test_a_replay_that_finds_no_cassette_leaves_a_judged_report_alone(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(REPO / "reports" / "llamacpp", folder)
    before = (folder / "report.json").read_bytes()
    result = conformance("run", "--target", "llamacpp", "--report-dir", str(folder), "--cassette-dir",
                         str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "was left as it was" in result.stderr
    assert (folder / "report.json").read_bytes() == before


def test_another_base_url_is_not_described_as_the_profiles_server(tmp_path: Path, canary_key: str) -> None:
    with running(canary_key) as server:
        result = conformance("run", "--target", "gemini", "--base-url", server.base_url, "--api-key-env",
                             "CONFORMANCE_STANDIN_KEY", "--chat-model", "standin-chat", "--embedding-model",
                             "standin-embed", "--name", "mine", "--record-mode", "once", "--cassette-dir",
                             str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"), "--surfaces", "rest",
                             "-k", "chat.system_user", key=canary_key)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert "Gemini" not in report["target"]["description"] and "docs" not in report["target"]
    assert "Gemini" not in (tmp_path / "r" / "report.md").read_text().split("## What breaks")[0]


def test_a_drafted_manifest_covers_every_finding_of_its_report(tmp_path: Path) -> None:
    """Replay without known gaps, draft a manifest from that report, replay with the draft: nothing new is left."""
    import tomllib

    # The tools and errors cases: failures and deviations both, in a third of the catalogue's replay time.
    bare = conformance("run", "--target", "llamacpp", "--gaps", "none", "-k", "tools or errors", "--report-dir",
                       str(tmp_path / "bare"))
    assert bare.returncode == 1, bare.stderr  # without a manifest its failures fail the run
    drafted = conformance("gaps", "draft", str(tmp_path / "bare" / "report.json"), "--out", str(tmp_path / "d.toml"))
    assert drafted.returncode == 0, drafted.stderr
    entries = tomllib.loads((tmp_path / "d.toml").read_text())["gap"]
    assert len({e["id"] for e in entries}) == len(entries) and all(e["reason"].startswith("TODO") for e in entries)
    assert all(e["source"].startswith("cassettes/llamacpp/") for e in entries)
    again = conformance("run", "--target", "llamacpp", "--gaps", str(tmp_path / "d.toml"), "-k", "tools or errors",
                        "--report-dir", str(tmp_path / "gated"))
    assert again.returncode == 0, again.stderr
    assert "; 0 new failure(s) (FAIL/ERROR); 0 new deviation(s);" in again.stderr
    refused = conformance("gaps", "draft", str(tmp_path / "bare" / "report.json"), "--out", str(tmp_path / "d.toml"))
    assert refused.returncode == 2 and "not overwriting" in refused.stderr


def test_a_draft_of_hostile_findings_still_parses_to_what_was_seen(tmp_path: Path) -> None:
    import tomllib

    from conformance.commands.gaps import draft_entries, render

    message = 'quote " back\\slash\nnewline \x1b[31m bidi \u202e surrogate \ud800 end'
    report = {"target": {"name": "t"}, "results": [
        {"case": "chat.system_user", "surface": "rest", "verdict": "DEVIATION", "gated_verdict": "DEVIATION",
         "cassette": 'cassettes/t/rest/x"y.yaml',
         "findings": [{"check": "schema.chat.completion", "pointer": '/choices/0/"\n', "message": message}]}]}
    text = render(draft_entries(report), "r.json", "t")
    assert text.isascii()  # nothing raw reaches a terminal or an editor
    entry = tomllib.loads(text)["gap"][0]
    assert entry["pointer"] == '/choices/*/"\n' and "\x1b[31m bidi \u202e" in entry["reason"]
    assert entry["source"] == 'cassettes/t/rest/x"y.yaml'


def test_init_for_a_server_describes_that_server_and_its_template_names_real_checks(tmp_path: Path) -> None:
    import re
    import tomllib

    from conformance.checks import REGISTRY
    from conformance.judge.gaps import load_manifest

    result = conformance("init", "--base-url", "http://127.0.0.1:8000/v1/", "--name", "mine", "--chat-model",
                         'm"odel', "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    profile = tomllib.loads((tmp_path / "targets" / "mine.toml").read_text())["target"]
    assert profile["description"] == "the OpenAI-compatible server at http://127.0.0.1:8000/v1/"
    assert profile["chat_model"] == 'm"odel'
    template = (tmp_path / "targets" / "mine.gaps.toml").read_text()
    examples = "\n".join(line[2:] for line in template.splitlines() if re.match(r"# (\[\[gap\]\]|[a-z]+ = )", line))
    example = tmp_path / "examples.toml"
    example.write_text(examples)
    gaps = load_manifest(example).gaps  # unknown check ids would be refused here
    assert gaps and all(g.check in REGISTRY for g in gaps if g.check)


@pytest.mark.parametrize("option, value", [("--api-key-env", "KEY\nrun: rm -rf /"), ("--action", "x/y@v1\n  evil"),
                                           ("--chat-model", "model\nname = 'other'")])
def test_init_refuses_what_it_cannot_write_faithfully(tmp_path: Path, option: str, value: str) -> None:
    result = conformance("init", "--base-url", "http://127.0.0.1:8000/v1/", "--name", "mine", option, value,
                         "--dir", str(tmp_path))
    assert result.returncode == 2 and list(tmp_path.iterdir()) == []


def test_a_reproduce_command_sends_the_recorded_request_again(tmp_path: Path, canary_key: str) -> None:
    import subprocess

    from conformance.report.reproduce import curl_command

    with running(canary_key) as server:
        recorded = _run(server.base_url, tmp_path, canary_key)
        assert recorded.returncode == 0, recorded.stderr
        row = next(r for r in json.loads((tmp_path / "r" / "report.json").read_text())["results"]
                   if r["case"] == "chat.system_user")
        command = curl_command(row["exchange"], {"api_key_env": "CONFORMANCE_STANDIN_KEY", "auth": "bearer"})
        assert command is not None and canary_key not in command and "$CONFORMANCE_STANDIN_KEY" in command
        before = len(server.requests)
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin", "CONFORMANCE_STANDIN_KEY": canary_key})
        sent = server.requests[before:]
    assert done.returncode == 0 and json.loads(done.stdout)["object"] == "chat.completion", done.stderr
    assert [p for p, _, _ in sent] == ["/v1/chat/completions"]
    assert json.loads(json.dumps(sent[0][2])) == json.loads(row["exchange"]["request_body"])


def test_a_fail_stays_a_fail_unless_a_known_failure_explains_it() -> None:
    from conformance.judge.analysis import CaseResult
    from conformance.judge.gaps import Gap, GapManifest, apply
    from conformance.model.findings import Finding, Severity
    from conformance.model.verdicts import Verdict

    def result() -> CaseResult:
        deviation = Finding(check="schema.chat.completion", pointer="/id", message="m", severity=Severity.DEVIATION)
        failure = Finding(check="chat.choices.count", pointer="/choices", message="m", severity=Severity.FAILURE)
        return CaseResult(case="c", surface="rest", feature="f", title="t", section="", verdict=Verdict.FAIL,
                          findings=[deviation, failure])

    def gap(check: str) -> Gap:
        return Gap(id=check, reason="r", source="s", check=check)

    nothing = result()
    apply(nothing, GapManifest())
    assert nothing.gated_verdict is Verdict.FAIL
    only_deviation = result()
    apply(only_deviation, GapManifest([gap("schema.chat.completion")]))
    assert only_deviation.gated_verdict is Verdict.FAIL
    failure_known = result()
    apply(failure_known, GapManifest([gap("chat.choices.count")]))
    assert failure_known.gated_verdict is Verdict.DEVIATION  # what is left is the unknown deviation


def test_a_missing_key_answered_403_is_a_finding_naming_the_exception_each_sdk_raises() -> None:
    from conformance.catalogue import CASES
    from conformance.checks import CheckContext
    from conformance.checks.error_bodies import status
    from conformance.model.expectations import Expectations

    case = next(c for c in CASES if c.id == "errors.no_key")
    assert case.expect_error == (401,)
    ctx = CheckContext(kind="error", body={"error": {"message": "m", "type": "t", "param": None, "code": None}},
                       request={}, status=403, expect=Expectations(status=(401,)))
    (found,) = list(status(ctx))
    assert found.check == "errors.status" and "PermissionDeniedError" in found.message
    assert "AuthenticationError" in found.message


def test_a_known_gap_closes_only_where_its_check_could_have_seen_it() -> None:
    from conformance.checks.registry import Selection
    from conformance.judge.gaps import Gap, GapManifest, closed_gaps

    share = Gap(id="share", reason="r", source="s", check="stream.tool_calls.first", cases=("stream.tools_auto",),
                surfaces=("rest",))

    def row(verdict: str, checks: tuple[str, ...] = ()) -> dict:
        return {"case": "stream.tools_auto", "surface": "rest", "verdict": verdict,
                "findings": [{"check": c, "pointer": "/x"} for c in checks]}

    ids = ["stream.tools_auto"]
    assert [g["id"] for g in closed_gaps(GapManifest([share]), [row("PASS")], ids)] == ["share"]
    # Deltas without an index: the check cannot tell calls apart, so its silence proves nothing.
    assert closed_gaps(GapManifest([share]), [row("DEVIATION", ("stream.tool_calls.index",))], ids) == []
    # A refusal or an error shows no behaviour; a check left out of the run saw nothing.
    assert closed_gaps(GapManifest([share]), [row("UNSUPPORTED")], ids) == []
    assert closed_gaps(GapManifest([share]), [row("ERROR")], ids) == []
    assert closed_gaps(GapManifest([share]), [row("PASS")], ids, selected=Selection(exclude=("stream.*",))) == []


def test_setup_node_installs_in_a_user_folder_once_and_never_empties_a_working_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed here (CI installs them)")
    from conformance.surfaces.node_setup import install_node_sdk, node_home, pinned_version

    monkeypatch.setenv("CONFORMANCE_NODE_DIR", str(tmp_path / "node"))
    ok, said = install_node_sdk()
    assert ok and said.startswith(f"the OpenAI Node.js SDK {pinned_version()} is installed"), said
    installed = node_home() / "node_modules" / "openai" / "package.json"
    before = installed.stat().st_mtime_ns
    ok, said = install_node_sdk()
    assert ok and "already installed" in said and installed.stat().st_mtime_ns == before
    assert sorted(p.name for p in node_home().iterdir()) == ["node_modules", "package-lock.json", "package.json",
                                                             "surface.mjs"]  # no staging folder left behind
