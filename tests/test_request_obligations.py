"""What a request obliges, judged the same way wherever an answer is seen (a run, ``validate --request``), and readers
that judge every body a server sent. The bodies here are SYNTHETIC, written for the test."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import case_by_id
from conformance.checks import run_checks
from conformance.judge.analysis import context_for
from conformance.judge.validate import detect_kind, validate_text
from conformance.run.profiles import load_profile
from conformance.wire.exchange import Exchange

PROFILE = load_profile("tests/standin/standin.toml")

COMPLETION = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None},
                           "logprobs": None, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
CHUNKS = [
    {"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None,
                  "finish_reason": None}]},
    {"id": "c", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
     "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]},
]
STREAM = "".join(f"data: {json.dumps(c)}\n\n" for c in CHUNKS) + "data: [DONE]\n\n"
CHAT_REQUEST = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.mark.parametrize(("body", "kind"), [
    ({"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "o"}]}, "models"),
    ({"id": "m", "object": "model", "created": 1, "owned_by": "o"}, "model"),
    ({"created": 1, "data": [{"b64_json": "iVBORw0KGgo="}]}, "images"),
    ({"created": 1, "data": [{"url": "https://example.com/a.png"}]}, "images"),
    ({"id": "file-1", "object": "file", "bytes": 3, "created_at": 1, "filename": "a", "purpose": "batch"}, "file"),
    ({"id": "file-1", "object": "file", "deleted": True}, "file.deleted"),
    ({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions"}, "batch"),
    ({"id": "r", "custom_id": "a", "response": {"status_code": 200}, "error": None}, "batch.output"),
    ({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}]}, "embeddings"),
    (COMPLETION, "chat.completion"),
    (CHUNKS[0], "chat.completion.chunk"),
    ({"error": {"message": "no", "type": "invalid_request_error", "param": None, "code": None}}, "error"),
    ({"detail": "Not Found"}, "error"),
    ([{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}], "error"),
])
def test_each_answer_kind_is_told_by_what_it_names(body: Any, kind: str) -> None:
    assert detect_kind(body) == kind


@pytest.mark.parametrize(("request_body", "kind"), [
    ({"model": "e", "input": ["a"]}, "embeddings"),
    ({"model": "i", "prompt": "a cat"}, "images"),
])
def test_an_empty_list_is_the_kind_its_request_asked_for(request_body: dict[str, Any], kind: str) -> None:
    assert detect_kind({"object": "list", "data": []}, request_body) == kind


def test_a_json_body_followed_by_stream_lines_is_judged_with_a_finding() -> None:
    result = validate_text(json.dumps(COMPLETION) + "\ndata: [DONE]\n\n")
    assert result.kind == "chat.completion"
    assert [f.check for f in result.findings] == ["json.trailing"]


def test_unknown_fields_before_the_first_event_are_ignored_as_the_sse_rules_say() -> None:
    result = validate_text("x-vendor: 1\n\n" + STREAM)
    assert result.kind == "stream"
    assert result.findings == []


def test_a_stream_request_answered_with_one_json_body_is_a_finding_in_validate() -> None:
    result = validate_text(json.dumps(COMPLETION), request={**CHAT_REQUEST, "stream": True})
    assert [f.check for f in result.findings] == ["stream.requested"]


def test_a_plain_request_answered_with_a_stream_is_a_finding_in_validate() -> None:
    result = validate_text(STREAM, request=CHAT_REQUEST)
    assert [f.check for f in result.findings] == ["stream.requested"]


def test_a_request_of_another_family_obliges_nothing_of_the_answer() -> None:
    listing = {"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "o"}]}
    assert validate_text(json.dumps(listing), request={"model": "e", "input": ["a", "b"]}).findings == []


def _exchange(body: str, content_type: str) -> Exchange:
    return Exchange("POST", "http://127.0.0.1/v1/chat/completions", {}, "{}", 200,
                    {"content-type": content_type}, body)


def test_a_run_judges_a_json_answer_to_a_stream_case_as_what_it_is() -> None:
    case = case_by_id("stream.basic")
    request = case.request_body(PROFILE)
    ctx = context_for(case, _exchange(json.dumps(COMPLETION), "application/json"), request, case.expect)
    assert ctx.kind == "chat.completion"
    assert "stream.requested" in [f.check for f in run_checks(ctx)]


def test_a_run_judges_a_stream_answer_to_a_plain_case_as_what_it_is() -> None:
    case = case_by_id("chat.system_user")
    request = case.request_body(PROFILE)
    ctx = context_for(case, _exchange(STREAM, "text/event-stream"), request, case.expect)
    assert ctx.kind == "stream"
    assert [f.check for f in run_checks(ctx)] == ["stream.requested"]


def test_a_stream_ignoring_n_fails_as_a_body_ignoring_it_does() -> None:
    stream = validate_text(STREAM, request={**CHAT_REQUEST, "stream": True, "n": 2})
    body = validate_text(json.dumps(COMPLETION), request={**CHAT_REQUEST, "n": 2})
    assert [f.check for f in stream.findings] == [f.check for f in body.findings] == ["chat.choices.count"]
