"""The path of a new user: ad-hoc servers, a first run without a baseline, output that survives a pipe, the
report's Markdown, `validate` on what people actually paste, and the small things a first session trips over.
Servers here are the SYNTHETIC stand-in, on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import build_parser, main
from tests.conftest import REPO
from tests.standin.server import running


def test_adhoc_base_url_run_writes_all_three_reports_under_its_host_and_port(tmp_path: Path, canary_key: str,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             capsys: pytest.CaptureFixture[str]
                                                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        code = main(["run", "--base-url", server.base_url, "--api-key-env", "STANDIN_KEY", "--chat-model",
                     "standin-chat", "--embedding-model", "standin-embed", "--record-mode", "once",
                     "--surfaces", "rest", "-k", "chat.system_user or embeddings.single"])
        port = server.base_url.split(":")[2].split("/")[0]
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "reports" / f"127.0.0.1-{port}"
    assert {p.name for p in folder.iterdir()} >= {"report.json", "report.md", "report.html"}
    assert (tmp_path / "cassettes" / f"127.0.0.1-{port}" / "rest" / "chat.system_user.yaml").is_file()
    assert "description" not in json.loads((folder / "report.json").read_text())["target"]


def test_name_option_names_an_adhoc_target(tmp_path: Path) -> None:
    from conformance.run.settings import resolve

    settings = resolve({"base_url": "http://localhost:8000/v1/", "chat_model": "m", "embedding_model": "e",
                        "name": "my-server", "cassette_dir": None, "report_dir": None})
    assert settings.profile.name == "my-server" and settings.cassette_dir.name == "my-server"
    other = resolve({"base_url": "https://example.invalid/v1/", "chat_model": "m", "embedding_model": "e"})
    assert other.profile.name == "example.invalid-443"


def test_first_run_without_a_baseline_makes_its_report_the_baseline(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline" / "report.json"
    code = main(["run", "--target", "llamacpp", "--surfaces", "rest", "-k", "stream.basic", "--report-dir",
                 str(tmp_path / "r"), "--baseline", str(baseline)])
    err = capsys.readouterr().err
    assert code == 0 and "no baseline yet" in err and "becomes it" in err
    assert json.loads(baseline.read_text())["results"][0]["case"] == "stream.basic"
    assert main(["run", "--target", "llamacpp", "--surfaces", "rest", "-k", "stream.basic", "--report-dir",
                 str(tmp_path / "r2"), "--baseline", str(baseline)]) == 0


def test_no_key_hint_does_not_promise_cassettes_that_do_not_exist(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    assert main(["run", "--target", "gemini", "--record-mode", "once", "--cassette-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "GEMINI_API_KEY" in err and "no cassettes are recorded for gemini yet" in err


def test_piped_output_keeps_every_id_and_message_whole(tmp_path: Path) -> None:
    long_id_report = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    changed = json.loads(json.dumps(long_id_report))
    for result in changed["results"]:
        if result["case"] == "tools.stream":
            result["findings"].append({"check": "tools.call.arguments.invalid_json_with_a_long_name",
                                       "pointer": "/choices/0/delta/tool_calls/0/function/arguments/and/deeper",
                                       "message": "m", "severity": "failure", "expected": None, "seen": None,
                                       "event": 3, "known_gap": None})
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(long_id_report))
    b.write_text(json.dumps(changed))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "diff", str(a), str(b)], capture_output=True,
                          text=True, cwd=REPO, env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"})
    assert "tools.call.arguments.invalid_json_with_a_long_name" in done.stdout
    assert "/choices/0/delta/tool_calls/0/function/arguments/and/deeper" in done.stdout
    assert all("…" not in line for line in done.stdout.splitlines())


def test_empty_diff_says_so_instead_of_an_empty_table(capsys: pytest.CaptureFixture[str]) -> None:
    committed = str(REPO / "reports" / "llamacpp" / "report.json")
    assert main(["diff", committed, committed]) == 0
    out = capsys.readouterr().out
    results = len(json.loads(Path(committed).read_text())["results"])
    assert f"no change in {results} result(s)" in out and "┏" not in out


def test_help_has_no_rst_markup_and_every_argument_explained() -> None:
    parser = build_parser()
    text = parser.format_help()
    assert "``" not in text
    for name in ("run", "validate", "diff", "report"):
        sub = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        for action in sub._actions:
            assert action.help, f"{name}: {action.dest} has no help"


def test_report_markdown_carries_known_gaps_and_exchanges() -> None:
    markdown = (REPO / "reports" / "llamacpp" / "report.md").read_text()
    assert "DEVIATION\\*" in markdown and "new failure(s)" in markdown and "known gap(s)" in markdown
    assert "<details><summary>Exchange:" in markdown and "Request:" in markdown and "Response:" in markdown
    assert "Legend:" in markdown
    html = (REPO / "reports" / "llamacpp" / "report.html").read_text()
    assert 'class="legend"' in html and "known gap" in html


@pytest.mark.parametrize("body", [
    '{"detail": "Invalid API Key"}',
    '{"message": "Unauthorized"}',
    '"Internal Server Error"',
    '[{"error": {"code": 400, "message": "Bad", "status": "INVALID_ARGUMENT"}}]',
])
def test_validate_tells_error_bodies_by_shape(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_text(body)
    assert main(["validate", "--format", "json", str(path)]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert {f["kind"] for f in findings} == {"error"}
    assert all(not f["pointer"].startswith(("/choices", "/id")) for f in findings)
    assert {(f["check"], f["pointer"]) for f in findings} & {("schema.error", "/"), ("schema.error", "/error")}


CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "system_fingerprint": None,
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None,
                      "finish_reason": None}]}
LAST = {**CHUNK, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}


def test_validate_reads_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(CHUNK) + "\n" + json.dumps(LAST) + "\n")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "stream: OK" in out and "JSON Lines" in out


def test_validate_turns_malformed_sse_into_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.sse"
    path.write_text(f"data: {json.dumps(CHUNK)}\n\n{json.dumps(LAST)}\n\ndata: [DONE]\n\ndata: {json.dumps(LAST)}\n\n")
    assert main(["validate", "--format", "json", str(path)]) == 1
    checks = {f["check"] for f in json.loads(capsys.readouterr().out)}
    assert {"stream.framing", "stream.done.last"} <= checks


def test_validate_says_when_its_input_was_cut_by_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(CHUNK)[:60] + "... [940 more characters in the cassette]")
    assert main(["validate", str(path)]) == 2
    assert "cut by a report" in capsys.readouterr().err


def test_a_cassette_error_reads_like_every_other_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "c" / "rest"
    folder.mkdir(parents=True)
    (folder / "chat.stop.yaml").write_text("interactions: [ {request: \n")
    assert main(["run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conformance: error: cassette") and "ERROR:" not in err


def test_key_held_in_a_cassette_is_found_whatever_its_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    short_key = "k-7Qz"
    folder = tmp_path / "c" / "rest"
    folder.mkdir(parents=True)
    original = (REPO / "cassettes" / "llamacpp" / "rest" / "chat.stop.yaml").read_text()
    (folder / "chat.stop.yaml").write_text(original.replace("Count from", f"Count {short_key} from", 1))
    monkeypatch.setenv("LLAMACPP_API_KEY", short_key)
    assert main(["run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                 str(tmp_path / "r"), "--record-mode", "all", "--base-url", "http://127.0.0.1:9/v1/"]) == 2
    err = capsys.readouterr().err
    assert "looks like an API key" in err and short_key not in err


COMPLETION_WITH_CALL = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "m",
    "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "refusal": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.mark.parametrize("request_body,expected", [
    (None, {"tools.finish_reason"}),  # without the request, "stop" with a call is the usual deviation
    ({"model": "m", "messages": [], "tools": [WEATHER_TOOL], "tool_choice": "required"}, set()),
    ({"model": "m", "messages": [], "tools": [WEATHER_TOOL], "tool_choice": "auto"}, {"tools.finish_reason"}),
    ({"model": "m", "messages": []}, {"tools.finish_reason", "tools.call.name"}),
])
def test_validate_judges_against_the_request_when_given(tmp_path: Path, request_body: dict | None,
                                                        expected: set[str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(COMPLETION_WITH_CALL))
    args = ["validate", "--format", "json", str(answer)]
    if request_body is not None:
        (tmp_path / "request.json").write_text(json.dumps(request_body))
        args[1:1] = ["--request", str(tmp_path / "request.json")]
    main(args)
    assert {f["check"] for f in json.loads(capsys.readouterr().out)} == expected


def test_workers_without_xdist_say_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xdist" else real(name, *a))
    assert main(["run", "--target", "llamacpp", "-n", "2"]) == 2
    err = capsys.readouterr().err
    assert "needs pytest-xdist" in err and "pip install pytest-xdist" in err
    monkeypatch.setattr(importlib.util, "find_spec", real)
    assert main(["run", "--target", "llamacpp", "-n", "two"]) == 2
    assert "number of workers" in capsys.readouterr().err
