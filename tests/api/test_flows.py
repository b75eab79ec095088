"""Conversations: the next request is built from what each client returned, and what a server needs echoed back is
found, not assumed. Servers here are the SYNTHETIC stand-in (tests/standin), on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.api.chat.conversation import (
    extension_pointers,
    first_difference,
    leaves,
    portable,
    raw_json_message,
    run_tool,
    wire_message,
)
from conformance.cli import main
from tests.conftest import need_every_surface, run_exit_code
from tests.standin.echo import echo_extension, repeat_call_identity_and_check_names
from tests.standin.server import running

FLOWS = "flow.tool_loop"  # -k: the loop, non-streamed and streamed


def _record(tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch, *mutations: Any,
            keyword: str = FLOWS) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", key)
    with running(key) as server:
        server.mutations.extend(mutations)
        code = main(["run", "--base-url", server.base_url, "--api-key-env", "STANDIN_KEY", "--name", "s",
                     "--chat-model", "standin-chat", "--embedding-model", "standin-embed", "--record-mode", "once",
                     "-k", keyword, "--gaps", "none"])
    report = json.loads((tmp_path / "reports" / "s" / "report.json").read_text())
    assert code == run_exit_code(report)
    return report


def _replay(tmp_path: Path, keyword: str = FLOWS) -> dict[str, Any]:
    code = main(["run", "--base-url", "http://127.0.0.1:9/v1/", "--name", "s", "--chat-model", "standin-chat",
                 "--embedding-model", "standin-embed", "-k", keyword, "--gaps", "none",
                 "--report-dir", str(tmp_path / "replay")])
    report = json.loads((tmp_path / "replay" / "report.json").read_text())
    assert code == run_exit_code(report)
    return report


def _rows(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["case"], r["surface"]): r for r in report["results"]}


@pytest.mark.parametrize("on,path,pointer", [
    ("tool_call", ("vendor_state", "turn"), "/choices/0/message/tool_calls/0/vendor_state/turn"),
    ("message", ("x-session", "resume", "token"), "/choices/0/message/x-session/resume/token"),
])
def test_a_required_extension_field_fails_the_standard_echo_on_every_surface_at_its_pointer(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch, on: str, path: tuple[str, ...],
        pointer: str) -> None:
    need_every_surface()
    report = _record(tmp_path, canary_key, monkeypatch, echo_extension(path, "opaque-7", on=on, required=True))
    rows = _rows(report)
    assert len(rows) == 8
    for (case, surface), row in rows.items():
        echo = [f for f in row["findings"] if f["check"] == "flow.echo.extension_required"]
        assert row["verdict"] == "FAIL", (case, surface, row["reason"])
        assert [(f["pointer"], f["step"], f["seen"]) for f in echo] == [(pointer, 2, "opaque-7")], (case, surface)
        assert "rebuilds messages from OpenAI's fields" in echo[0]["message"]
        names = [s["name"] for s in row["steps"]]
        assert names[:2] == ["ask", "tool result"] and "tool result (verbatim message echoed)" in names
        assert row["exchange"]["status"] == 200  # the conversation went on with the verbatim message
    replayed = _rows(_replay(tmp_path))
    assert {k: (r["verdict"], r["findings"]) for k, r in replayed.items()} == \
        {k: (r["verdict"], r["findings"]) for k, r in rows.items()}


def test_the_control_twin_sends_the_field_without_requiring_it_and_gets_no_finding(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    need_every_surface()
    report = _record(tmp_path, canary_key, monkeypatch,
                     echo_extension(("vendor_state", "turn"), "opaque-7", required=False))
    for (case, surface), row in _rows(report).items():
        assert row["verdict"] == "PASS", (case, surface, row["reason"])
        assert not [f for f in row["findings"] if f["check"].startswith("flow.")]
        assert [s["name"] for s in row["steps"]] == ["ask", "tool result"]


def test_a_client_that_misreads_the_stream_breaks_the_conversation_on_its_surface_only(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _record(tmp_path, canary_key, monkeypatch, repeat_call_identity_and_check_names(),
                     keyword="flow.tool_loop.stream")
    rows = _rows(report)
    python = [f for f in rows[("flow.tool_loop.stream", "python-sdk")]["findings"]
              if f["check"] == "flow.echo.client_reading"]
    assert len(python) == 1 and python[0]["step"] == 2 and "misread" in python[0]["message"]
    for surface in ("rest", "curl"):
        assert not [f for f in rows[("flow.tool_loop.stream", surface)]["findings"]
                    if f["check"].startswith("flow.")]


def test_a_replay_whose_next_request_differs_is_not_recorded_and_says_where(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(tmp_path, canary_key, monkeypatch, keyword="flow.tool_loop and not stream")
    cassette = tmp_path / "cassettes" / "s" / "rest" / "flow.tool_loop.yaml"
    text = cassette.read_text()
    recorded_answer = '"arguments": "{\\"location\\": \\"Chicago, IL\\"}"'
    assert text.count(recorded_answer) == 1 and "temperature" in text  # step 1's answer, step 2's tool result
    # The first answer as replayed now names another city: the rebuilt next request no longer matches.
    cassette.write_text(text.replace(recorded_answer, recorded_answer.replace("Chicago, IL", "Boston, MA")))
    row = _rows(_replay(tmp_path, "flow.tool_loop and not stream"))[("flow.tool_loop", "rest")]
    assert row["verdict"] == "NOT RECORDED", row["reason"]
    assert row["reason"].startswith("step 2 (tool result)") and "differs from the recorded one at /messages/" \
        in row["reason"]


def test_portable_echo_keeps_openai_fields_only_and_extensions_are_found_anywhere() -> None:
    message = {"role": "assistant", "content": None, "refusal": None, "annotations": None, "audio": None,
               "my_state": {"a": {"b": 1}}, "tool_calls": [
                   {"id": "c1", "type": "function", "index": 0, "vendor": "x",
                    "function": {"name": "get_weather", "arguments": "{}", "hint": {"k": "v"}}}]}
    assert portable(message) == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}
    assert extension_pointers(message) == ["/my_state", "/tool_calls/0/vendor", "/tool_calls/0/function/hint"]
    assert leaves(message, "/my_state") == ["/my_state/a/b"]
    assert extension_pointers(portable(message)) == []


def test_a_streamed_message_is_folded_verbatim_and_as_a_portable_client_reads_it() -> None:
    def event(delta: dict[str, Any]) -> str:
        return "data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}) + "\n\n"

    body = (event({"role": "assistant", "content": ""})
            + event({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "ext": {"sig": "S"},
                                     "function": {"name": "get_weather", "arguments": '{"loc'}}]})
            + event({"tool_calls": [{"index": 0, "function": {"arguments": 'ation": "X"}'}}]})
            + "data: [DONE]\n\n")
    verbatim = wire_message(body, stream=True)
    assert verbatim["tool_calls"] == [{"id": "c1", "type": "function", "ext": {"sig": "S"},
                                       "function": {"name": "get_weather", "arguments": '{"location": "X"}'}}]
    raw = raw_json_message(body, stream=True)
    assert raw["tool_calls"][0]["function"]["arguments"] == '{"location": "X"}' and "ext" not in raw["tool_calls"][0]


def test_first_difference_names_the_deepest_pointer() -> None:
    a = {"messages": [{"role": "user"}, {"content": "x", "tool_calls": [{"id": "1"}]}]}
    b = {"messages": [{"role": "user"}, {"content": "x", "tool_calls": [{"id": "2"}]}]}
    assert first_difference(a, b) == ("/messages/1/tool_calls/0/id", "1", "2")
    assert first_difference(a, a)[0] == ""


def test_the_local_tools_are_deterministic_and_say_what_is_wrong() -> None:
    assert run_tool("get_weather", '{"location": "Paris"}') == run_tool("get_weather", '{"location": "Paris"}')
    assert json.loads(run_tool("get_weather", '{"location": "Paris", "unit": "fahrenheit"}'))["temperature"] == 72
    assert "error" in json.loads(run_tool("get_weather", "{not json"))
    assert "error" in json.loads(run_tool("nope", "{}"))


def test_a_misspelt_expectation_is_an_error_where_it_is_written() -> None:
    from conformance.catalogue.model import Case
    from conformance.model.expectations import Expectations

    with pytest.raises(ValueError, match=r"unknown expectation.*tool_call_expectd"):
        Case("x", "f", "t", "s", "chat/completions", {}, expect={"tool_call_expectd": True})
    with pytest.raises(AttributeError, match="no expectation named"):
        Expectations().get("min_tool_call")
    assert Expectations.of({"min_tool_calls": 2}).to_dict() == {"min_tool_calls": 2}


def test_narrowing_twenty_thousand_fields_costs_a_few_dozen_requests_and_names_only_what_it_proved() -> None:
    from conformance.api.chat.conversation import MAX_NARROWING_REQUESTS, narrow

    candidates = [f"/extra_{n}" for n in range(20_000)]
    sent: list[int] = []

    def accepted_without(group: list[str]) -> bool:
        sent.append(len(group))
        return "/extra_13579" not in group

    proved, finished = narrow(candidates, accepted_without)
    assert proved == ["/extra_13579"] and finished
    assert len(sent) <= MAX_NARROWING_REQUESTS
    # Two fields, either of which will do: none is needed on its own, and none is named.
    either = narrow(candidates[:6], lambda group: not {"/extra_1", "/extra_4"} <= set(group))
    assert either == ([], True)


def test_a_narrowing_cut_by_its_budget_names_what_it_proved_and_says_the_rest_in_one_finding() -> None:
    from conformance.api.chat.conversation import narrow, unnamed_extensions_finding

    needed = {f"/f{n}" for n in range(0, 20_000, 997)}  # 21 needed fields: more than the budget can prove
    proved, finished = narrow([f"/f{n}" for n in range(20_000)], lambda group: not needed & set(group))
    assert not finished and set(proved) <= needed
    finding = unnamed_extensions_finding(20_000, len(proved), 8, finished, "REST")
    assert finding.pointer == "/choices/0/message" and "budget" in finding.message
