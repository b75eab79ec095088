"""What a request obliges, judged the same way wherever an answer is seen (a run, ``validate --request``), and readers
that judge every body a server sent. The bodies here are SYNTHETIC, written for the test."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.catalogue import case_by_id
from conformance.checks import run_checks
from conformance.judge.analysis import context_for
from conformance.judge.validate import detect_kind, judge_exchange, operation_at, validate_text
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


def _seen(path: str, request: dict[str, Any] | None, status: int, body: str,
          content_type: str = "application/json") -> Exchange:
    return Exchange("POST", "http://127.0.0.1:8080" + path, {}, json.dumps(request) if request else "", status,
                    {"content-type": content_type}, body)


@pytest.mark.parametrize(("path", "method", "operation"), [
    ("/v1/chat/completions", "POST", "chat.create"),
    ("/v1beta/openai/chat/completions", "POST", "chat.create"),
    ("/v1/models/gpt-4o", "GET", "models.retrieve"),
    ("/openai/v1/embeddings", "POST", "embeddings.create"),
    ("/v1/batches/batch_1/cancel", "POST", "batches.cancel"),
])
def test_an_exchange_s_operation_is_told_by_its_path_whatever_the_base_url(path: str, method: str,
                                                                          operation: str) -> None:
    found = operation_at(path, method)
    assert found is not None and found.id == operation


def test_an_exchange_seen_through_the_proxy_is_judged_from_its_request() -> None:
    streamed = judge_exchange(_seen("/v1beta/openai/chat/completions", {**CHAT_REQUEST, "stream": True}, 200,
                                    json.dumps(COMPLETION)))
    assert (streamed.kind, [f.check for f in streamed.findings]) == ("chat.completion", ["stream.requested"])
    vectors = {"object": "list", "model": "e", "data": [{"object": "embedding", "index": 0, "embedding": [0.5] * 8}],
               "usage": {"prompt_tokens": 2, "total_tokens": 2}}
    embedded = judge_exchange(_seen("/v1/embeddings", {"model": "e", "input": "hi", "dimensions": 4}, 200,
                                    json.dumps(vectors)))
    assert [f.check for f in embedded.findings] == ["embeddings.dimensions"]


def test_an_error_code_with_another_status_is_a_finding_only_where_it_disagrees() -> None:
    """OpenAI's rate-limit body (type "requests", code rate_limit_exceeded) with its 429 is clean; with a 400 its
    code says another status, and its type is not the invalid_request_error of OpenAI's 400s."""
    body = json.dumps({"error": {"message": "slow down", "type": "requests", "param": None,
                                 "code": "rate_limit_exceeded"}})
    assert judge_exchange(_seen("/v1/chat/completions", CHAT_REQUEST, 429, body)).findings == []
    wrong = judge_exchange(_seen("/v1/chat/completions", CHAT_REQUEST, 400, body))
    assert sorted(f.check for f in wrong.findings) == ["errors.status.code", "errors.type"]
