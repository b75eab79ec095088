"""Every check, both ways: conformant answers give no finding; a crafted deviation gives the right id and pointer.

The conformant answers come from the SYNTHETIC stand-in server (tests/standin), answering each catalogue case.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
from typing import Any

import pytest

from conformance.catalogue import CASES
from conformance.catalogue.cases import tiny_png_data_url
from conformance.checks import REGISTRY, CheckContext, run_checks
from conformance.model.findings import Severity
from tests.api.crafted import DELETE, Deviation, body, chunk, conformant, fn
from tests.api.test_responses import COVERED_CHECKS as RESPONSES_CHECKS
from tests.api.test_responses import DEVIATIONS as RESPONSES_DEVIATIONS


@pytest.mark.parametrize("case", [c for c in CASES if not c.is_batch],
                         ids=[c.id for c in CASES if not c.is_batch])
def test_conformant_answer_has_no_finding(case: Any) -> None:
    """(A Batch API lifecycle is several answers: tests/api/test_batches.py holds its whole run to PASS.)"""
    assert run_checks(conformant(case.id)) == []


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def _allowed_chat(mode: str, *names: str) -> dict[str, Any]:
    return {"type": "allowed_tools", "allowed_tools": {"mode": mode, "tools": [
        {"type": "function", "function": {"name": name}} for name in names]}}


def tool_chunk(ctx: CheckContext, number: int) -> dict[str, Any]:
    return ctx.chunks[number]["choices"][0]["delta"]["tool_calls"][0]


def cumulative(ctx: CheckContext) -> None:
    """Content deltas rewritten as snapshots of the text so far: "Sky", "Sky blue", "Sky blue sea"."""
    words = ["Sky", " blue", " sea"]
    snapshots = [json.loads(json.dumps(ctx.chunks[1])) for _ in words]
    for number, snapshot in enumerate(snapshots, start=1):
        snapshot["choices"][0]["delta"] = {"content": "".join(words[:number])}
    ctx.chunks[1:3] = snapshots


DEVIATIONS = [
    # schema
    Deviation("schema.chat.completion", "chat.system_user", body("/id", DELETE), "/id"),
    Deviation("schema.chat.completion", "chat.system_user", body("/choices/0/logprobs", DELETE), "/choices/0/logprobs"),
    Deviation("schema.chat.completion", "chat.system_user", body("/choices/0/message/refusal", DELETE),
              "/choices/0/message/refusal"),
    Deviation("schema.chat.completion", "chat.system_user", body("/created", "1700000000"), "/created"),
    Deviation("schema.chat.completion.chunk", "stream.basic", chunk(1, "/choices/0/finish_reason", DELETE),
              "/choices/0/finish_reason", 1),
    Deviation("schema.chat.completion.chunk", "tools.stream", fn(lambda c: tool_chunk(c, 1).pop("index")),
              "/choices/0/delta/tool_calls/0/index", 1),
    Deviation("schema.embeddings", "embeddings.single", body("/data/0/index", DELETE), "/data/0/index"),
    Deviation("schema.embeddings", "embeddings.single", body("/usage", DELETE), "/usage"),
    Deviation("schema.error", "errors.unknown_model", fn(lambda c: setattr(c, "body", [c.body])), ""),
    # chat
    Deviation("chat.choices.present", "chat.system_user", body("/choices", []), "/choices"),
    Deviation("chat.choices.count", "n.two", fn(lambda c: c.body["choices"].pop()), "/choices"),
    Deviation("chat.choices.index", "n.two", body("/choices/1/index", 0), "/choices/1/index"),
    Deviation("chat.message.content", "chat.system_user", body("/choices/0/message/content", ""),
              "/choices/0/message/content"),
    Deviation("chat.usage.total", "chat.system_user", body("/usage/total_tokens", 448), "/usage/total_tokens"),
    Deviation("chat.max_tokens.honoured", "chat.max_tokens", body("/usage/completion_tokens", 50),
              "/usage/completion_tokens"),
    Deviation("chat.stop.honoured", "chat.stop", body("/choices/0/message/content", "1 2 3 4 5 6"),
              "/choices/0/message/content"),
    # streaming
    Deviation("stream.events.json", "stream.basic",
              fn(lambda c: c.stream_problems.append((2, "event 2 is not JSON"))), "", 2),
    Deviation("stream.chunks.present", "stream.basic", fn(lambda c: c.chunks.clear()), ""),
    Deviation("stream.done", "stream.basic", fn(lambda c: setattr(c, "done", False)), "", 4),
    Deviation("stream.id.consistent", "stream.basic", chunk(2, "/id", "chatcmpl-other"), "/id", 2),
    Deviation("stream.created.consistent", "stream.basic", chunk(2, "/created", 1), "/created", 2),
    Deviation("stream.model.consistent", "stream.basic", chunk(2, "/model", "other"), "/model", 2),
    Deviation("stream.role.first", "stream.basic", chunk(0, "/choices/0/delta/role", DELETE),
              "/choices/0/delta/role", 0),
    Deviation("stream.role.first", "stream.basic", chunk(2, "/choices/0/delta/role", "assistant"),
              "/choices/0/delta/role", 2),
    Deviation("stream.finish_reason.once", "stream.basic", chunk(3, "/choices/0/finish_reason", None),
              "/choices/0/finish_reason"),
    Deviation("stream.finish_reason.last", "stream.basic", chunk(1, "/choices/0/finish_reason", "stop"),
              "/choices/0", 2),
    Deviation("stream.usage.final_chunk", "stream.include_usage", fn(lambda c: c.chunks.pop()), "/usage", 3),
    Deviation("stream.usage.total", "stream.include_usage", chunk(4, "/usage/total_tokens", 1),
              "/usage/total_tokens", 4),
    Deviation("stream.tool_calls.index", "tools.stream", fn(lambda c: tool_chunk(c, 2).pop("index")),
              "/choices/0/delta/tool_calls/0/index", 2),
    Deviation("stream.tool_calls.first", "tools.stream", fn(lambda c: tool_chunk(c, 1).pop("id")),
              "/choices/0/delta/tool_calls/0/id", 1),
    Deviation("stream.framing", "stream.basic",
              fn(lambda c: c.stray_lines.append((7, '{"id": "chatcmpl-1", "choices": []}'))), ""),
    Deviation("stream.done.last", "stream.basic", fn(lambda c: setattr(c, "events_after_done", 2)), "", 4),
    Deviation("stream.error_event", "stream.basic",
              fn(lambda c: setattr(c, "stream_error", (2, "Resource exhausted"))), "", 2),
    Deviation("json.duplicate_keys", "chat.system_user",
              fn(lambda c: c.duplicate_keys.append((None, "key 'content'"))), ""),
    Deviation("json.duplicate_keys", "stream.basic", fn(lambda c: c.duplicate_keys.append((1, "key 'id'"))), "", 1),
    Deviation("stream.system_fingerprint.consistent", "stream.basic",
              fn(lambda c: [ch.update(system_fingerprint=f"fp_{n}") for n, ch in enumerate(c.chunks)]),
              "/system_fingerprint", 1),
    Deviation("stream.usage.placement", "stream.include_usage",
              chunk(1, "/usage", {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}), "/usage", 1),
    Deviation("stream.usage.placement", "stream.basic",
              chunk(3, "/usage", {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}), "/usage", 3),
    Deviation("stream.choices.empty", "stream.basic", chunk(2, "/choices", []), "/choices", 2),
    Deviation("stream.tool_calls.first", "tools.stream",
              fn(lambda c: tool_chunk(c, 2).update(id=tool_chunk(c, 1)["id"], type="function")),
              "/choices/0/delta/tool_calls/0", 2),
    # chat completion values a schema cannot see
    Deviation("chat.created.seconds", "chat.system_user", body("/created", 1_764_000_000_000), "/created"),
    Deviation("chat.created.seconds", "stream.basic",
              fn(lambda c: [ch.update(created=1_764_000_000_000) for ch in c.chunks]), "/created", 0),
    Deviation("chat.id.present", "chat.system_user", body("/id", ""), "/id"),
    Deviation("chat.id.present", "stream.basic", chunk(1, "/id", ""), "/id", 1),
    Deviation("chat.logprobs.range", "chat.system_user", body("/choices/0/logprobs", {"content": [
        {"token": "Sky", "logprob": 0.93, "bytes": [83, 107, 121], "top_logprobs": []}], "refusal": None}),
              "/choices/0/logprobs/content/0/logprob"),
    Deviation("embeddings.usage.total", "embeddings.single", body("/usage/total_tokens", 9), "/usage/total_tokens"),
    Deviation("models.listed", "models.list", fn(lambda c: c.body["data"].pop(0)), "/data"),
    Deviation("models.retrieved", "models.retrieve", body("/id", "other-model"), "/id"),
    Deviation("schema.models", "models.list", body("/data/0/owned_by", DELETE), "/data/0/owned_by"),
    Deviation("chat.response_format", "structured.json_object", body("/choices/0/message/content", "Paris"),
              "/choices/0/message/content"),
    Deviation("chat.response_format", "structured.json_schema",
              body("/choices/0/message/content", '{"city": "Paris"}'), "/choices/0/message/content"),
    Deviation("chat.logprobs.requested", "params.accepted.logprobs", body("/choices/0/logprobs", None),
              "/choices/0/logprobs"),
    Deviation("chat.logprobs.requested", "params.accepted.logprobs",
              fn(lambda c: c.body["choices"][0]["logprobs"]["content"][0]["top_logprobs"].extend(
                  c.body["choices"][0]["logprobs"]["content"][0]["top_logprobs"])),
              "/choices/0/logprobs/content/0/top_logprobs"),
    # --- relations the spec states in words (checks/relations.py)
    Deviation("usage.parts", "chat.system_user", body("/usage/completion_tokens_details", {"reasoning_tokens": 50}),
              "/usage/completion_tokens_details/reasoning_tokens"),
    Deviation("usage.parts", "chat.system_user", body("/usage/prompt_tokens_details", {"cached_tokens": -1}),
              "/usage/prompt_tokens_details/cached_tokens"),
    Deviation("tools.call.id.unique", "tools.parallel",
              fn(lambda c: c.body["choices"][0]["message"]["tool_calls"][1].update(id="call_standin_0")),
              "/choices/0/message/tool_calls/1/id"),
    Deviation("chat.finish_reason.length", "chat.max_tokens", body("/choices/0/finish_reason", "length"),
              "/choices/0/finish_reason"),
    Deviation("stream.delta.cumulative", "stream.basic", fn(cumulative), "/choices/0/delta/content", event=2),
    Deviation("json.strict", "chat.system_user", body("/usage/prompt_tokens", float("nan")), "/usage/prompt_tokens"),
    Deviation("json.strict", "chat.system_user", body("/choices/0/message/content", "bad \ud800 text"),
              "/choices/0/message/content"),
    Deviation("errors.type", "errors.bad_key", body("/error/type", "AuthenticationError"), "/error/type"),
    Deviation("images.data", "images.generate", body("/data/0/b64_json", "bm90IGFuIGltYWdl"), "/data/0/b64_json"),
    Deviation("images.data", "images.generate", body("/data", []), "/data"),
    Deviation("images.size", "images.size", body("/data/0/b64_json", tiny_png_data_url(8).split(",", 1)[1]),
              "/data/0/b64_json"),
    Deviation("schema.images", "images.generate", body("/created", DELETE), "/created"),
    Deviation("reasoning.in_content", "chat.system_user",
              body("/choices/0/message/content", "<think>The user asks about AI.</think>Sky blue"),
              "/choices/0/message/content"),
    Deviation("reasoning.tokens.reported", "reasoning.effort.low", body("/usage/completion_tokens_details", DELETE),
              "/usage/completion_tokens_details/reasoning_tokens"),
    Deviation("tools.call.arguments.json", "tools.auto",
              body("/choices/0/message/tool_calls/0/function/arguments", '{"location": NaN}'),
              "/choices/0/message/tool_calls/0/function/arguments"),
    Deviation("tools.parallel.disabled", "params.accepted.parallel_tool_calls",
              fn(lambda c: c.body["choices"][0]["message"]["tool_calls"].extend(case_tool_calls("tools.required"))),
              "/choices/0/message/tool_calls"),
    # function calling
    Deviation("tools.legacy_function_call", "tools.auto",
              fn(lambda c: c.body["choices"][0]["message"].update(function_call={"name": "", "arguments": "{}"})),
              "/choices/0/message/function_call"),
    Deviation("tools.legacy_function_call", "tools.stream",
              fn(lambda c: c.chunks[1]["choices"][0]["delta"].update(function_call={"name": "get_weather"})),
              "/choices/0/delta/function_call", 1),
    Deviation("tools.call.name", "chat.system_user",
              fn(lambda c: c.body["choices"][0]["message"].update(tool_calls=case_tool_calls("tools.required"))),
              "/choices/0/message/tool_calls/0/function/name"),
    Deviation("tools.finish_reason", "tools.auto", body("/choices/0/finish_reason", "stop"),
              "/choices/0/finish_reason"),
    Deviation("tools.finish_reason", "tools.stream",
              fn(lambda c: (c.request.update(tool_choice="auto"), chunk(4, "/choices/0/finish_reason", "stop")(c))),
              "/choices/0/finish_reason", 4),
    Deviation("tools.call.id", "tools.required", body("/choices/0/message/tool_calls/0/id", ""),
              "/choices/0/message/tool_calls/0/id"),
    Deviation("tools.call.arguments.json", "tools.required",
              body("/choices/0/message/tool_calls/0/function/arguments", '{"location": '),
              "/choices/0/message/tool_calls/0/function/arguments"),
    Deviation("tools.call.arguments.schema", "tools.required",
              body("/choices/0/message/tool_calls/0/function/arguments", '{"location": "X", "unit": "kelvin"}'),
              "/choices/0/message/tool_calls/0/function/arguments"),
    Deviation("tools.call.name", "tools.required",
              body("/choices/0/message/tool_calls/0/function/name", "get_stock_price"),
              "/choices/0/message/tool_calls/0/function/name"),
    Deviation("tools.choice.none", "tools.none",
              fn(lambda c: c.body["choices"][0]["message"].update(
                  tool_calls=case_tool_calls("tools.required"))), "/choices/0/message/tool_calls/0"),
    Deviation("tools.choice.required", "tools.required", fn(lambda c: c.body["choices"][0]["message"].update(
        tool_calls=[], content="It is sunny.")), "/choices/0/message/tool_calls"),
    Deviation("tools.choice.named", "tools.named",
              body("/choices/0/message/tool_calls/0/function/name", "get_weather"),
              "/choices/0/message/tool_calls/0/function/name"),
    Deviation("tools.choice.allowed", "tools.required",
              fn(lambda c: c.request.update(tool_choice=_allowed_chat("auto", "get_stock_price"))),
              "/choices/0/message/tool_calls/0/function/name"),
    Deviation("tools.choice.allowed", "tools.required",
              fn(lambda c: (c.request.update(tool_choice=_allowed_chat("required", "get_weather")),
                            c.body["choices"][0]["message"].update(tool_calls=[], content="It is sunny."))),
              "/choices/0/message/tool_calls"),
    Deviation("tools.parallel.count", "tools.parallel", fn(lambda c: c.body["choices"][0]["message"]["tool_calls"]
                                                           .pop()), "/choices/0/message/tool_calls"),
    Deviation("tools.auto.called", "tools.auto", fn(lambda c: c.body["choices"][0].update(
        message={"role": "assistant", "content": "It is sunny.", "refusal": None}, finish_reason="stop")),
        "/choices/0/message/tool_calls"),
    Deviation("tools.result.answer", "tools.result_round_trip", body("/choices/0/message/content", None),
              "/choices/0/message/content"),
    # embeddings
    Deviation("embeddings.data.count", "embeddings.batch", fn(lambda c: c.body["data"].pop()), "/data"),
    Deviation("embeddings.data.index", "embeddings.batch", body("/data/2/index", 0), "/data/2/index"),
    Deviation("embeddings.base64.decode", "embeddings.base64", body("/data/0/embedding", "AAAA!"),
              "/data/0/embedding"),
    Deviation("embeddings.encoding_format.honoured", "embeddings.base64", body("/data/0/embedding", [0.5] * 8),
              "/data/0/embedding"),
    Deviation("embeddings.dimensions", "embeddings.dimensions", body("/data/0/embedding", [0.5] * 8),
              "/data/0/embedding"),
    Deviation("embeddings.vector.length", "embeddings.batch", body("/data/1/embedding", [0.5] * 3),
              "/data/1/embedding"),
    # HTTP envelope
    Deviation("http.content_type", "chat.system_user", fn(lambda c: setattr(c, "content_type", "text/plain")), ""),
    Deviation("http.content_type", "stream.basic", fn(lambda c: setattr(c, "content_type", "application/json")), ""),
    Deviation("http.encoding", "chat.system_user",
              fn(lambda c: setattr(c, "encoding_problem", "the body is not valid UTF-8 (byte 12: b'\\xff')")), ""),
    # errors
    Deviation("errors.status", "errors.unknown_model", fn(lambda c: setattr(c, "status", 500)), ""),
    Deviation("errors.message", "errors.unknown_model", body("/error/message", " "), "/error/message"),
    Deviation("errors.code", "errors.unknown_model", body("/error/code", "404"), "/error/code"),
    Deviation("errors.param", "params.invalid.top_p.above_max", body("/error/param", None), "/error/param"),
    Deviation("errors.code", "errors.unknown_model", body("/error/code", "invalid_model"), "/error/code"),
    Deviation("chat.audio.requested", "chat.system_user",
              fn(lambda c: c.request.update(modalities=["text", "audio"])), "/choices/0/message/audio"),
    Deviation("chat.audio.requested", "stream.basic",
              fn(lambda c: c.request.update(modalities=["text", "audio"])), "/choices/0/delta/audio", 0),
    Deviation("embeddings.vector.zero", "embeddings.batch", body("/data/1/embedding", [0.0] * 8), "/data/1/embedding"),
    # the answer agrees with itself (conformance/checks/agreement.py)
    Deviation("chat.logprobs.text", "params.accepted.logprobs", body("/choices/0/logprobs/content/0/token", "Sea "),
              "/choices/0/logprobs/content"),
    Deviation("chat.logprobs.bytes", "params.accepted.logprobs", body("/choices/0/logprobs/content/1/bytes", [90]),
              "/choices/0/logprobs/content/1/bytes"),
    Deviation("tools.finish_reason.calls", "chat.system_user", body("/choices/0/finish_reason", "tool_calls"),
              "/choices/0/finish_reason"),
    Deviation("tools.finish_reason.calls", "stream.basic", chunk(3, "/choices/0/finish_reason", "tool_calls"),
              "/choices/0/finish_reason", 3),
    Deviation("usage.counted", "chat.system_user", body("/usage/prompt_tokens", 0), "/usage/prompt_tokens"),
    Deviation("usage.counted", "chat.system_user", body("/usage/completion_tokens", 0), "/usage/completion_tokens"),
    Deviation("usage.counted", "stream.include_usage", chunk(4, "/usage/completion_tokens", 0),
              "/usage/completion_tokens", 4),
    Deviation("usage.counted", "embeddings.single", body("/usage/prompt_tokens", 0), "/usage/prompt_tokens"),
    Deviation("chat.model.named", "chat.system_user", body("/model", "models/standin-chat"), "/model"),
    Deviation("chat.model.named", "stream.basic", chunk(0, "/model", "models/standin-chat"), "/model", 0),
    Deviation("errors.status.code", "errors.unknown_model", fn(lambda c: setattr(c, "status", 400)), "/error/code"),
    Deviation("stream.requested", "chat.system_user", fn(lambda c: c.request.update(stream=True)), ""),
    Deviation("tools.call.in_content", "tools.required", fn(lambda c: c.body["choices"][0]["message"].update(
        tool_calls=None, content='<tool_call>{"name": "get_weather", "arguments": {"location": "Paris"}}</tool_call>')),
        "/choices/0/message/content"),
    Deviation("reasoning.in_content", "chat.system_user",
              body("/choices/0/message/content", "The user asks about AI.</think>AI learns from data."),
              "/choices/0/message/content"),
    Deviation("usage.counted", "embeddings.batch", fn(lambda c: c.body["usage"].update(prompt_tokens=2,
                                                                                       total_tokens=2)),
              "/usage/prompt_tokens"),
    Deviation("json.trailing", "chat.system_user", fn(lambda c: setattr(c, "trailing", "\ndata: [DONE]\n")), ""),
    Deviation("stream.requested", "stream.basic", fn(lambda c: c.request.pop("stream")), ""),
    # a request's obligations judged the same way in a stream as in a body
    Deviation("chat.choices.count", "stream.basic", fn(lambda c: c.request.update(n=2)), "/choices"),
    Deviation("chat.choices.index", "stream.basic",
              fn(lambda c: [choice.update(index=1) for chunk in c.chunks for choice in chunk["choices"]]),
              "/choices/0/index", 0),
    Deviation("chat.max_tokens.honoured", "stream.include_usage", fn(lambda c: c.request.update(max_tokens=1)),
              "/usage/completion_tokens", 4),
    Deviation("chat.response_format", "stream.basic",
              fn(lambda c: c.request.update(response_format={"type": "json_object"})), "/choices/0/delta/content"),
]


def case_tool_calls(case_id: str) -> list[Any]:
    return copy.deepcopy(conformant(case_id).body["choices"][0]["message"]["tool_calls"])


@pytest.mark.parametrize("deviation", DEVIATIONS + RESPONSES_DEVIATIONS,
                         ids=[f"{d.check}@{d.case}" for d in DEVIATIONS + RESPONSES_DEVIATIONS])
def test_deviation_is_flagged_with_check_and_pointer(deviation: Deviation) -> None:
    ctx = conformant(deviation.case)
    deviation.mutate(ctx)
    found = [(f.check, f.pointer, f.event) for f in run_checks(ctx)]
    assert (deviation.check, deviation.pointer, deviation.event) in found, found


@pytest.mark.parametrize("mode", ["auto", "required"])
def test_a_call_the_allowed_tools_permit_is_no_finding(mode: str) -> None:
    """`allowed_tools` is no named function: a call to an allowed one is judged by neither tools.choice.named (which
    once read the allowed list as a function named None) nor tools.choice.allowed."""
    ctx = conformant("tools.required")
    ctx.request["tool_choice"] = _allowed_chat(mode, "get_weather", "get_stock_price")
    assert [f for f in run_checks(ctx) if f.check.startswith("tools.choice")] == []


def test_every_check_has_a_crafted_deviation() -> None:
    from tests.api.test_batches import COVERED_CHECKS  # the Batch API's, on a whole lifecycle against the stand-in

    covered = {d.check for d in DEVIATIONS} | set(COVERED_CHECKS) | RESPONSES_CHECKS
    missing = sorted({i for i, c in REGISTRY.items() if c.func is not None} - covered)
    assert not missing, f"checks without a deviation test: {missing}"


def test_missing_index_in_streamed_tool_call_is_a_failure() -> None:
    ctx = conformant("tools.stream")
    for number in (1, 2, 3):
        tool_chunk(ctx, number).pop("index")
    severities = {f.check: f.severity for f in run_checks(ctx)}
    assert severities["stream.tool_calls.index"] is Severity.FAILURE


def test_parallel_calls_all_at_index_zero_break_argument_assembly() -> None:
    """Gemini sends each parallel call whole, as its own chunk, all claiming index 0 (dayu-agent#45)."""
    ctx = conformant("tools.stream")
    first = ctx.chunks[1]
    second = copy.deepcopy(first)
    for call, name, args in ((first, "get_weather", '{"location": "Paris"}'),
                             (second, "get_time", '{"location": "Tokyo"}')):
        delta = call["choices"][0]["delta"]["tool_calls"][0]
        delta.update(id=f"id-{name}", function={"name": name, "arguments": args})
    ctx.chunks[1:4] = [first, second]
    checks = {f.check for f in run_checks(ctx)}
    assert {"tools.call.arguments.json", "stream.tool_calls.first"} <= checks


def test_base64_vector_decodes_to_float32_of_the_requested_size() -> None:
    ctx = conformant("embeddings.base64")
    ctx.body["data"][0]["embedding"] = b64([0.25] * 5)
    found = {(f.check, f.pointer) for f in run_checks(ctx)}
    assert ("embeddings.dimensions", "/data/0/embedding") in found


def test_error_body_as_json_array_is_flagged_at_root() -> None:
    ctx = conformant("errors.invalid_parameter")
    ctx.body = json.loads('[{"error": {"code": 400, "message": "Unknown name", "status": "INVALID_ARGUMENT"}}]')
    assert next((f.check, f.pointer) for f in run_checks(ctx)) == ("schema.error", "")


LEGAL = {
    "refusal beside null content": ("chat.system_user", lambda c: c.body["choices"][0]["message"].update(
        content=None, refusal="I can't help with that.")),
    "audio beside null content": ("chat.system_user", lambda c: c.body["choices"][0]["message"].update(
        content=None, audio={"id": "audio_1", "data": "UklGRg==", "expires_at": 1800000000, "transcript": "Hi"})),
    "custom tool call": ("tools.required", lambda c: (
        c.request.update(tools=[{"type": "custom", "custom": {"name": "grep"}}], tool_choice="required"),
        c.body["choices"][0]["message"].update(tool_calls=[
            {"id": "call_1", "type": "custom", "custom": {"name": "grep", "input": "needle *.py"}}]))),
    "stop with a named tool_choice": ("tools.named", lambda c: c.body["choices"][0].update(finish_reason="stop")),
    "stop with tool_choice required": ("tools.required",
                                       lambda c: c.body["choices"][0].update(finish_reason="stop")),
    "usage on the final chunk": ("stream.include_usage", lambda c: None),
}


@pytest.mark.parametrize("name", list(LEGAL))
def test_legal_but_unusual_answers_give_no_finding(name: str) -> None:
    case_id, mutate = LEGAL[name]
    ctx = conformant(case_id)
    mutate(ctx)
    assert run_checks(ctx) == [], name


def test_broken_streamed_arguments_point_at_the_delta_that_broke_them() -> None:
    ctx = conformant("tools.stream")
    deltas = [n for n, c in enumerate(ctx.chunks) if c["choices"] and c["choices"][0]["delta"].get("tool_calls")]
    last = deltas[-1]
    tool_chunk(ctx, last)["function"]["arguments"] = "}}not json"
    found = [(f.check, f.pointer, f.event) for f in run_checks(ctx) if f.check == "tools.call.arguments.json"]
    assert found == [("tools.call.arguments.json", "/choices/0/delta/tool_calls/0/function/arguments", last)]


def test_stream_pointers_use_array_positions_not_index_values() -> None:
    ctx = conformant("stream.basic")
    for event in ctx.chunks:
        for choice in event["choices"]:
            choice["index"] = 3  # one choice, at position 0, numbered 3
    ctx.chunks[2]["choices"][0]["delta"]["role"] = "assistant"
    pointers = {(f.check, f.pointer) for f in run_checks(ctx)}
    assert ("stream.role.first", "/choices/0/delta/role") in pointers


def test_a_finding_repeated_on_many_chunks_is_one_finding_naming_them() -> None:
    ctx = conformant("stream.basic")
    for event in ctx.chunks[1:]:
        event["id"] = "chatcmpl-other"
    found = [f for f in run_checks(ctx) if f.check == "stream.id.consistent"]
    total = len(ctx.chunks)
    assert len(found) == 1 and found[0].event == 1
    assert f"(in {total - 1} of {total} chunks: 1-{total - 1})" in found[0].message


# --- legal answers stay legal (issue: "Legal answers stay legal") ------------------------------------------------

def test_fewer_top_logprobs_than_asked_is_legal() -> None:
    ctx = conformant("params.accepted.logprobs")
    for token in ctx.body["choices"][0]["logprobs"]["content"]:
        token["top_logprobs"] = token["top_logprobs"][:1]  # "may be fewer than the requested top_logprobs"
    assert run_checks(ctx) == []


def test_a_tool_call_name_in_a_later_delta_than_its_id_is_legal_when_sent_once() -> None:
    ctx = conformant("tools.stream")
    first = tool_chunk(ctx, 1)
    name = first["function"].pop("name")
    ctx.chunks[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = name
    found = run_checks(ctx)
    assert found == [], [(f.check, f.message) for f in found]
    assert not any("repeated" in f.message for f in found)


def test_a_name_sent_on_two_deltas_says_sent_twice_and_names_the_field() -> None:
    ctx = conformant("tools.stream")
    ctx.chunks[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] = "get_weather"
    (found,) = [f for f in run_checks(ctx) if f.check == "stream.tool_calls.first"]
    assert "function.name of call 0 sent on 2 deltas" in found.message and found.event == 2


def test_two_deltas_that_add_up_to_the_text_are_not_cumulative() -> None:
    ctx = conformant("stream.basic")
    # "a", "a", "aa": each starts with the text before it by chance, but is not longer than all of it
    for number, text in ((1, "a"), (2, "a")):
        ctx.chunks[number]["choices"][0]["delta"] = {"content": text}
    assert [f for f in run_checks(ctx) if f.check == "stream.delta.cumulative"] == []


def test_every_traced_statement_has_a_check_or_a_reason_and_the_command_shows_the_counts(
        capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main
    from conformance.commands.checks import coverage

    table = coverage()
    for statement in table["statements"]:
        assert statement["check"] in REGISTRY or (statement["check"] is None and statement.get("reason")), statement
    assert table["found"] == table["checked"] + table["not_checkable"] and table["checked"] >= 60
    assert main(["checks", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert f"{table['found']} normative statements traced" in out and "not checkable from the wire" in out
    assert main(["checks", "--coverage", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == table["checked"]
