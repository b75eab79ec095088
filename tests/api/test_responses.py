"""The Responses API family: each check's crafted deviation (a conformant stand-in answer broken in one place, the
finding expected at its pointer and event; tests/api/test_checks.py runs them with the other families'), OpenAI's
own recorded Responses answers judged clean, and the family's cases against the SYNTHETIC stand-in."""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import pytest

from conformance.checks import CheckContext, run_checks
from conformance.judge.analysis import decode_answer
from conformance.judge.validate import validate_text
from tests.api.crafted import Deviation, body, chunk, conformant, fn
from tests.conftest import need_reference


def _first_text_item(ctx: CheckContext) -> dict[str, Any]:
    return next(item for item in ctx.body["output"] if item["type"] == "message")


def _text_to(value: str) -> Any:
    return fn(lambda c: _first_text_item(c)["content"][0].update(text=value))


# The stand-in's stream for responses.stream: 0 created, 1 in_progress, 2 output_item.added, 3 content_part.added,
# 4-8 output_text.delta, 9 output_text.done, 10 content_part.done, 11 output_item.done, 12 response.completed.
# For responses.function_call.stream: 0, 1, 2 added, 3-4 arguments deltas, 5 arguments.done, 6 item done, 7 completed.
DEVIATIONS = [
    Deviation("responses.status.details", "responses.text", body("/status", "incomplete"), "/incomplete_details"),
    Deviation("responses.status.details", "responses.max_output_tokens", body("/incomplete_details", None),
              "/incomplete_details"),
    Deviation("responses.usage.total", "responses.text", body("/usage/total_tokens", 99), "/usage/total_tokens"),
    Deviation("responses.usage.counted", "responses.text", body("/usage/input_tokens", 0), "/usage/input_tokens"),
    Deviation("responses.usage.counted", "responses.tool_choice.required", body("/usage/output_tokens", 0),
              "/usage/output_tokens"),
    Deviation("responses.items.status", "responses.text", body("/output/0/status", "in_progress"),
              "/output/0/status"),
    Deviation("responses.items.status", "responses.function_call.stream",
              chunk(7, "/response/output/0/status", "incomplete"), "/response/output/0/status", 7),
    Deviation("responses.usage.parts", "responses.text", body("/usage/input_tokens_details/cached_tokens", 50),
              "/usage/input_tokens_details/cached_tokens"),
    Deviation("responses.items.unique", "responses.function_calls.parallel", body("/output/1/call_id",
                                                                                    "call_standin_0"),
              "/output/1/call_id"),
    Deviation("responses.function_call.arguments", "responses.tool_choice.required",
              body("/output/0/arguments", "{'location': 'Paris'}"), "/output/0/arguments"),
    Deviation("responses.output_text.reasoning", "responses.text", _text_to("<think>The user greets.</think>Hello!"),
              "/output/0/content/0/text"),
    Deviation("responses.output_text.reasoning", "responses.text", _text_to("The user greets.</think>Hello!"),
              "/output/0/content/0/text"),
    Deviation("responses.output_text.tool_markup", "responses.tool_choice.none",
              _text_to('<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'), "/output/0/content/0/text"),
    Deviation("responses.instructions.echoed", "responses.instructions", body("/instructions", None), "/instructions"),
    Deviation("responses.request.restated", "responses.max_output_tokens", body("/max_output_tokens", 4096),
              "/max_output_tokens"),
    Deviation("responses.request.restated", "responses.text",
              fn(lambda c: (c.request.update(temperature=0.2), c.body.update(temperature=1.0))), "/temperature"),
    Deviation("responses.request.restated", "responses.stream",
              fn(lambda c: (c.request.update(metadata={"run": "a"}),
                            c.chunks[12]["response"].update(metadata={}))), "/response/metadata", 12),
    Deviation("responses.previous_response_id.echoed", "responses.text",
              fn(lambda c: c.request.update(previous_response_id="resp_earlier")), "/previous_response_id"),
    Deviation("responses.tool_choice.honoured", "responses.tool_choice.required",
              fn(lambda c: c.request.update(tool_choice="none")), "/output"),
    Deviation("responses.tool_choice.honoured", "responses.tool_choice.named", body("/output/0/name", "get_weather"),
              "/output"),
    Deviation("responses.tool_choice.honoured", "responses.text",
              fn(lambda c: c.request.update(tool_choice="required")), "/output"),
    Deviation("responses.tool_choice.honoured", "responses.tool_choice.required",
              fn(lambda c: c.request.update(tool_choice={"type": "allowed_tools", "mode": "auto", "tools": [
                  {"type": "function", "name": "get_stock"}]})), "/output/0/name"),
    Deviation("responses.tool_choice.honoured", "responses.text",
              fn(lambda c: c.request.update(tool_choice={"type": "allowed_tools", "mode": "required", "tools": [
                  {"type": "function", "name": "get_weather"}]})), "/output"),
    Deviation("responses.tools.declared", "responses.tool_choice.required", body("/output/0/name", "get_stock"),
              "/output/0/name"),
    Deviation("responses.parallel_tool_calls", "responses.function_calls.parallel",
              fn(lambda c: c.request.update(parallel_tool_calls=False)), "/output/1"),
    Deviation("responses.text.format", "responses.text.json_schema", _text_to("Paris, France"),
              "/output/0/content/0/text"),
    Deviation("responses.text.format", "responses.text.json_schema", _text_to('{"city": "Paris"}'),
              "/output/0/content/0/text"),
    Deviation("responses.max_output_tokens", "responses.max_output_tokens", body("/usage/output_tokens", 40),
              "/usage/output_tokens"),
    Deviation("responses.include.logprobs", "responses.include.logprobs",
              fn(lambda c: _first_text_item(c)["content"][0].update(logprobs=[])), "/output/0/content/0/logprobs"),
    Deviation("stream.requested", "responses.text", fn(lambda c: c.request.update(stream=True)), ""),
    Deviation("stream.requested", "responses.stream", fn(lambda c: c.request.pop("stream")), ""),
    # the stream's order and its statements agreeing with each other
    Deviation("responses.stream.sequence", "responses.stream", chunk(5, "/sequence_number", 7), "/sequence_number",
              5),
    Deviation("responses.stream.first", "responses.stream", fn(lambda c: c.chunks.pop(0)), "/type", 0),
    Deviation("responses.stream.terminal", "responses.stream", fn(lambda c: c.chunks.pop()), "", 11),
    Deviation("responses.stream.terminal", "responses.stream",
              fn(lambda c: c.chunks.append(copy.deepcopy(c.chunks[-1]))), "/type", 13),
    Deviation("responses.stream.done_sentinel", "responses.stream", fn(lambda c: setattr(c, "done", True)), ""),
    Deviation("responses.stream.chat_chunk", "responses.stream",
              fn(lambda c: c.chunks.insert(5, {"object": "chat.completion.chunk", "choices": []})), "", 5),
    Deviation("responses.stream.event_name", "responses.stream", fn(lambda c: c.event_names.__setitem__(3, None)),
              "", 3),
    Deviation("responses.stream.items", "responses.stream", chunk(5, "/item_id", "msg_other"), "/output_index", 5),
    Deviation("responses.stream.items", "responses.stream", chunk(5, "/output_index", 3), "/output_index", 5),
    Deviation("responses.stream.items", "responses.stream", chunk(5, "/content_index", 1), "/output_index", 5),
    Deviation("responses.stream.item_done", "responses.stream",
              fn(lambda c: c.chunks.pop(11) and None), "/output/0", 11),
    Deviation("responses.stream.item_done", "responses.function_call.stream",
              fn(lambda c: c.chunks.pop(5) and None), "/output/0", 6),
    Deviation("responses.created_at.seconds", "responses.text", body("/created_at", 1_700_000_000_000),
              "/created_at"),
    Deviation("responses.created_at.seconds", "responses.stream", chunk(0, "/response/created_at", 1_700_000_000_000),
              "/response/created_at", 0),
    Deviation("responses.stream.item_order", "responses.stream",
              fn(lambda c: [e.update(output_index=1) for e in c.chunks if "output_index" in e]), "/output_index", 2),
    Deviation("responses.stream.final_output", "responses.function_call.stream",
              chunk(7, "/response/output/0/call_id", "call_other"), "/response/output/0/call_id", 7),
    Deviation("responses.stream.text", "responses.stream", chunk(9, "/text", "Hello! The sea is blue."),
              "/output/0/content/0", 9),
    Deviation("responses.stream.text", "responses.stream",
              chunk(12, "/response/output/0/content/0/text", "Hello!"), "/output/0/content/0", 12),
    Deviation("responses.stream.arguments", "responses.function_call.stream",
              chunk(5, "/arguments", '{"location": "Paris"}'), "/output/0/arguments", 5),
    # responses.reasoning.summary: 0 created, 1 in_progress, 2 reasoning item added, 3 summary part added, 4-9 summary
    # deltas, 10 summary text done, 11 summary part done, 12 reasoning item done, then the message item
    Deviation("responses.stream.summary", "responses.reasoning.summary", chunk(10, "/text", "Another summary."),
              "/output/0/summary/0/text", 10),
    Deviation("responses.stream.summary", "responses.reasoning.summary",
              fn(lambda c: c.chunks[-1]["response"]["output"][0]["summary"][0].update(text="Other.")),
              "/output/0/summary/0/text", 23),  # the terminal event
    Deviation("responses.stream.arguments", "responses.function_call.stream",
              chunk(7, "/response/output/0/arguments", "{}"), "/output/0/arguments", 7),
    Deviation("responses.stream.final_output", "responses.stream", chunk(12, "/response/output/0/id", "msg_other"),
              "/response/output/0/id", 12),
    Deviation("responses.stream.final_output", "responses.stream", chunk(12, "/response/output", []),
              "/response/output", 12),
    Deviation("responses.stream.status", "responses.stream", chunk(12, "/response/status", "in_progress"),
              "/response/status", 12),
    Deviation("responses.stream.id", "responses.stream", chunk(12, "/response/id", "resp_other"), "/response/id", 12),
    # a request's obligations judged on a stream's terminal response the same way as on a body
    Deviation("responses.tools.declared", "responses.function_call.stream",
              chunk(7, "/response/output/0/name", "get_stock"), "/response/output/0/name", 7),
    Deviation("responses.usage.total", "responses.stream", chunk(12, "/response/usage/total_tokens", 1),
              "/response/usage/total_tokens", 12),
]
COVERED_CHECKS = {d.check for d in DEVIATIONS} | {"responses.deleted"}


@pytest.mark.parametrize(("asked", "stated"), [(0.7, 0.699999988079071), (1, 1.0), ({"a": "b"}, {"a": "b"})])
def test_a_setting_stated_back_as_given_is_no_finding(asked: Any, stated: Any) -> None:
    """A float32 rounding of the temperature, an integer as a float, an equal mapping: the same setting."""
    ctx = conformant("responses.text")
    key = "metadata" if isinstance(asked, dict) else "temperature"
    ctx.request[key], ctx.body[key] = asked, stated
    assert [f for f in run_checks(ctx) if f.check == "responses.request.restated"] == []


def test_an_unconfirmed_deletion_is_flagged() -> None:
    ctx = CheckContext("response.deleted", body={"id": "resp_1", "object": "response", "deleted": False},
                       operation="responses.delete")
    assert [(f.check, f.pointer) for f in run_checks(ctx)] == [("responses.deleted", "/deleted")]
    ctx.body["deleted"] = True
    assert run_checks(ctx) == []


def _recordings() -> dict[str, Any]:
    path = need_reference("openai-responses-recordings", "responses.recordings.json.gz")
    exchanges: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))["exchanges"]
    return exchanges


def test_every_recorded_openai_responses_answer_judges_clean_as_a_run_judges_it() -> None:
    """OpenAI's behaviour is the reference: its own answers (streams byte for byte), with their requests, give no
    finding, decoded the way a run decodes them."""
    judged = 0
    for key, exchange in _recordings().items():
        kind = "error" if exchange["status"] >= 400 else "response"
        text = exchange.get("sse") or json.dumps(exchange.get("body"))
        request = exchange["request"] if isinstance(exchange["request"], dict) else None
        decoded = decode_answer("responses.stream" if exchange.get("sse") else kind, text, exchange["content_type"])
        ctx = CheckContext(decoded.kind, operation="responses.create", request=request, status=exchange["status"],
                           content_type=exchange["content_type"])
        found = run_checks(decoded.into(ctx))
        assert found == [], (key, [(f.check, f.pointer, f.event, f.message) for f in found])
        judged += 1
    assert judged == 17


def test_every_recorded_openai_responses_answer_is_told_apart_and_judges_clean_in_validate() -> None:
    kinds = {}
    for key, exchange in _recordings().items():
        text = exchange.get("sse") or json.dumps(exchange.get("body"))
        request = exchange["request"] if isinstance(exchange["request"], dict) else None
        for given in (None, request):
            result = validate_text(text, "auto", key, given, status=exchange["status"])
            assert result.findings == [], (key, given is not None, [(f.check, f.pointer) for f in result.findings])
            kinds[key] = result.kind
    assert kinds["gpt55-fc-stream"] == "responses.stream" and kinds["moderation-body"] == "response"
    assert kinds["error-400-model-not-found"] == "error"


def test_a_chat_chunk_stream_sent_to_a_responses_request_is_caught() -> None:
    """A gateway that answers /responses with chat chunks: the stream is judged as the Responses stream it should be,
    and the chunks are the finding (not a schema error on every field)."""
    chat = "".join(f"data: {json.dumps(c)}\n\n" for c in (
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})) + "data: [DONE]\n\n"
    decoded = decode_answer("responses.stream", chat, "text/event-stream")
    ctx = decoded.into(CheckContext("responses.stream", operation="responses.create",
                                    request={"model": "m", "input": "Hi", "stream": True}))
    checks = {f.check for f in run_checks(ctx)}
    assert {"responses.stream.chat_chunk", "responses.stream.done_sentinel", "responses.stream.terminal",
            "responses.stream.first"} <= checks


def test_a_json_response_where_a_stream_was_asked_for_is_judged_as_a_response() -> None:
    ctx = conformant("responses.text")
    text = json.dumps(ctx.body)
    decoded = decode_answer("responses.stream", text, "application/json")
    assert decoded.kind == "response"
    judged = decoded.into(CheckContext("responses.stream", operation="responses.create",
                                       request={**ctx.request, "stream": True}))
    assert [f.check for f in run_checks(judged)] == ["stream.requested"]


def test_the_proxy_judges_a_responses_exchange_by_its_path_and_request() -> None:
    """An exchange the proxy relays (POST .../responses, a stream asked for) is judged as the run judges it: as a
    Responses stream, with the request's obligations (here a required tool call that never came)."""
    from conformance.judge.validate import judge_exchange
    from conformance.wire.exchange import Exchange
    from tests.standin import server as standin

    request = {"model": "standin-chat", "input": "Hi", "stream": True}
    reply = standin.answer("responses", request)
    exchange = Exchange("POST", "http://127.0.0.1:9/v1beta/openai/responses", {},
                        json.dumps({**request, "tools": [{"type": "function", "name": "get_weather"}],
                                    "tool_choice": "required"}),
                        200, {"content-type": "text/event-stream"}, standin.sse_text(reply))
    judged = judge_exchange(exchange)
    assert judged.kind == "responses.stream"
    # (the answer was made for a request without tool_choice: it states "auto", not the "required" relayed)
    assert [(f.check, f.pointer, f.event) for f in judged.findings] == [
        ("responses.request.restated", "/response/tool_choice", 12),
        ("responses.tool_choice.honoured", "/response/output", 12)]


def test_an_item_added_before_the_previous_one_is_done_is_out_of_order() -> None:
    """Two function calls streamed one inside the other (the second added before the first is done): clients that
    append items as they come get them out of the response's order."""
    from tests.standin.responses import build

    request = {"model": "standin-chat", "input": "Use both tools.", "stream": True, "tool_choice": "required",
               "tools": [{"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_time"}]}
    status, events = build(request, "resp_1")
    chunks = [json.loads(e) for e in events]
    second = next(n for n, c in enumerate(chunks) if c["type"] == "response.output_item.added" and c["output_index"])
    chunks.insert(3, chunks.pop(second))
    ctx = CheckContext("responses.stream", chunks=chunks, request=request, operation="responses.create")
    found = [(f.check, f.event) for f in run_checks(ctx) if f.check.startswith("responses.stream.item")]
    assert status == 200 and found == [("responses.stream.item_order", 3)]


@pytest.mark.parametrize(("name", "text", "check"), [
    ("an event that is not JSON", "event: response.created\ndata: {\"type\": \"response.cr\n\n", "stream.events.json"),
    ("a JSON line without data:", '{"type": "response.created", "sequence_number": 0}\n\n', "stream.framing"),
    ("the server's error event", 'event: error\ndata: {"type": "error", "code": "server_error", "message": "boom", '
                                 '"param": null, "sequence_number": 2}\n\n', "stream.error_event"),
    ("no event at all", ": keep-alive\n\n", "stream.chunks.present"),
])
def test_a_responses_stream_broken_as_an_event_stream_is_caught_by_validate(name: str, text: str, check: str) -> None:
    """What goes wrong with the event stream itself (framing, JSON, an error report) is judged on a Responses
    stream as on a chat one."""
    opening = conformant("responses.stream").chunks[:2]
    head = "".join(f"event: {c['type']}\ndata: {json.dumps(c)}\n\n" for c in opening)
    result = validate_text(head + text if check != "stream.chunks.present" else text, "responses.stream", name,
                           {"model": "standin-chat", "input": "Hi", "stream": True})
    assert check in {f.check for f in result.findings}, [(f.check, f.message) for f in result.findings]


def _signed_calls(path: str, request: dict[str, Any], reply: Any) -> Any:
    """A SYNTHETIC server of the kind public reports describe (a signature of the server's own on each call, which
    it needs back): every function_call item carries ``vendor_signature``; a request that replays a call without it
    is refused with 400."""
    from tests.standin.server import Reply

    if not path.split("?")[0].endswith("/responses"):
        return reply
    replayed = [i for i in request.get("input") or [] if isinstance(i, dict) and i.get("type") == "function_call"]
    if any("vendor_signature" not in item for item in replayed):
        return Reply(400, {"error": {"message": "function_call is missing its vendor_signature", "type":
                                     "invalid_request_error", "param": "input", "code": None}})
    if isinstance(reply.body, dict):
        for item in reply.body.get("output") or []:
            if item.get("type") == "function_call":
                item["vendor_signature"] = "c2lnbmVk"
    return reply


def test_a_field_the_server_needs_back_on_replayed_items_is_named_by_the_narrowing(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, canary_key: str) -> None:
    """The Responses way of continuing statelessly (store: false, the output items replayed as input): a server
    that refuses the portable items and accepts them verbatim is a FAIL naming the field, on every surface, found by
    the same narrowing as chat's."""
    from conformance.cli import main
    from tests.conftest import run_exit_code
    from tests.standin.server import running

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        server.mutations.append(_signed_calls)
        code = main(["run", "--base-url", server.base_url, "--api-key-env", "STANDIN_KEY", "--name", "s",
                     "--chat-model", "standin-chat", "--embedding-model", "standin-embed", "--record-mode", "once",
                     "--catalogue", "full", "-k", "responses.flow.items_replayed", "--gaps", "none"])
    report = json.loads((tmp_path / "reports" / "s" / "report.json").read_text())
    assert code == run_exit_code(report)
    rows = [r for r in report["results"] if r["verdict"] != "NOT RUN"]
    assert rows and all(r["verdict"] == "FAIL" for r in rows), [(r["surface"], r["verdict"], r["reason"]) for r in rows]
    for row in rows:
        named = [(f["check"], f["pointer"]) for f in row["findings"] if f["check"] == "flow.echo.extension_required"]
        assert named == [("flow.echo.extension_required", "/output/0/vendor_signature")], row["surface"]


def _stored_run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, canary_key: str, response_id: Any,
                surfaces: str, *extra: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, str], dict[str, Any]]]]:
    """responses.stored against the SYNTHETIC stand-in whose create answer names ``response_id``: (the report, every
    request the stand-in saw)."""
    from conformance.cli import main
    from tests.standin.server import Reply, running

    def renamed(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.split("?")[0].endswith("/responses") and isinstance(reply.body, dict):
            reply.body = {**reply.body, "id": response_id}
        return reply

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as server:
        server.mutations.append(renamed)
        main(["run", "--base-url", server.base_url, "--api-key-env", "STANDIN_KEY", "--name", "s", "--chat-model",
              "standin-chat", "--embedding-model", "standin-embed", "--record-mode", "once", "--catalogue", "full",
              "-k", "responses.stored", "--gaps", "none", "--surfaces", surfaces, *extra])
        seen = list(server.requests)
    return json.loads((tmp_path / "reports" / "s" / "report.json").read_text()), seen


@pytest.mark.parametrize("response_id", ["..", "resp_1/..", "resp 1", "resp_1?x=1", "r" * 3000, {"id": "resp_1"}, 7],
                         ids=["dots", "dot-segment", "space", "query", "long", "object", "number"])
def test_a_response_id_that_is_no_path_segment_ends_the_conversation_without_another_request(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, canary_key: str, response_id: Any) -> None:
    """The stored-response steps put the first answer's id in the next URL: an id that would leave its segment (a
    dot segment), carry a query, or is no string at all is a FAIL at /id of the first answer, and nothing more is
    sent (no read of another resource, no delete of something else)."""
    report, seen = _stored_run(tmp_path, monkeypatch, canary_key, response_id, "python-sdk,rest")
    rows = report["results"]
    assert {r["surface"] for r in rows} == {"python-sdk", "rest"}
    for row in rows:
        assert row["verdict"] == "FAIL" and "step 2 (retrieve)" in row["reason"], row["reason"]
        ids = [(f["check"], f["pointer"], f.get("step")) for f in row["findings"] if f["check"] == "flow.step.id"]
        assert ids == [("flow.step.id", "/id", 1)], row["findings"]
    sent = [p.split("?")[0] for p, _, _ in seen if not p.endswith("/models")]
    assert sent and all(p.endswith("/v1/responses") for p in sent), sent  # the create alone (shared by surfaces)


def test_a_response_id_with_a_slash_is_read_back_as_one_path_segment_on_every_surface(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, canary_key: str) -> None:
    """'resp_1/cancel' is a legal (if odd) id: it is followed, and travels percent-encoded as one segment on all four
    surfaces, so that the read-back never becomes a cancel, nor the deletion a read of the input items."""
    _, seen = _stored_run(tmp_path, monkeypatch, canary_key, "resp_1/cancel", "python-sdk,rest,node-sdk,curl",
                          "--no-share")
    followed = [p.split("?")[0] for p, _, _ in seen if "/responses/" in p]
    assert len(followed) >= 4, followed  # each surface sends its own read-back (--no-share)
    assert all(p.endswith(("/responses/resp_1%2Fcancel", "/responses/resp_1%2Fcancel/input_items"))
               for p in followed), followed
