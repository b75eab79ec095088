"""The Responses API family: each check's crafted deviation (a conformant stand-in answer broken in one place, the
finding expected at its pointer and event), OpenAI's own recorded Responses answers judged clean, and the family's
cases against the SYNTHETIC stand-in."""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import pytest

from conformance.checks import CheckContext, run_checks
from conformance.judge.analysis import decode_answer
from conformance.judge.validate import validate_text
from tests.api.test_checks import Deviation, body, chunk, conformant, fn
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
    Deviation("responses.previous_response_id.echoed", "responses.text",
              fn(lambda c: c.request.update(previous_response_id="resp_earlier")), "/previous_response_id"),
    Deviation("responses.tool_choice.honoured", "responses.tool_choice.required",
              fn(lambda c: c.request.update(tool_choice="none")), "/output"),
    Deviation("responses.tool_choice.honoured", "responses.tool_choice.named", body("/output/0/name", "get_weather"),
              "/output"),
    Deviation("responses.tool_choice.honoured", "responses.text",
              fn(lambda c: c.request.update(tool_choice="required")), "/output"),
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
    Deviation("responses.stream.text", "responses.stream", chunk(9, "/text", "Hello! The sea is blue."),
              "/output/0/content/0", 9),
    Deviation("responses.stream.text", "responses.stream",
              chunk(12, "/response/output/0/content/0/text", "Hello!"), "/output/0/content/0", 12),
    Deviation("responses.stream.arguments", "responses.function_call.stream",
              chunk(5, "/arguments", '{"location": "Paris"}'), "/output/0/arguments", 5),
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


@pytest.mark.parametrize("deviation", DEVIATIONS, ids=[f"{d.check}@{d.case}" for d in DEVIATIONS])
def test_deviation_is_flagged_with_check_and_pointer(deviation: Deviation) -> None:
    ctx = conformant(deviation.case)
    deviation.mutate(ctx)
    found = [(f.check, f.pointer, f.event) for f in run_checks(ctx)]
    assert (deviation.check, deviation.pointer, deviation.event) in found, found


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
