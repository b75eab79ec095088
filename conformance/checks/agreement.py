"""The answer agrees with itself: where an answer says one thing twice, both say the same.

No schema sees these: each field is well formed, and only their relation is wrong (a count of zero beside the text
it counts, log-probability tokens that spell another text than the message, a ``tool_calls`` finish with no call).
Each relation was mined from the genuine OpenAI recordings (``scripts/mine-relations``: it holds on every answer it
applies to) and traced to the spec sentence that states it; ``conformance/data/normative.json`` lists them, and the
candidates the mining rejected with their reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.api import is_stream, streamed_kind
from conformance.api.chat.checks import choices_of
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity, is_count

LOGPROBS_SOURCE = ("OpenAI API reference, ChatCompletionTokenLogprob: `token` is the token, `bytes` its UTF-8 "
                   "bytes; logprobs.content is the content's tokens (holds on all 48 genuine OpenAI answers with "
                   "logprobs, scripts/mine-relations)")
USAGE_SOURCE = ("OpenAI API reference, the completion usage object: prompt_tokens, \"Number of tokens in the "
                "prompt\", completion_tokens, \"Number of tokens in the generated completion\" (holds on all 1,023 "
                "genuine OpenAI answers, scripts/mine-relations)")
FINISH_SOURCE = ("OpenAI API reference, the chat completion object: finish_reason is `tool_calls` \"if the model "
                 "called a tool\"")
MODEL_SOURCE = ("OpenAI API reference, the chat completion object: `model`, \"The model used for the chat "
                "completion\"; OpenAI answers the model asked for or its dated snapshot (gpt-4 -> gpt-4-0613, on "
                "all 1,129 genuine answers, scripts/mine-relations); Gemini's layer is publicly recorded answering "
                "`models/<model>` (shared/reference/gemini-evidence)")
ERROR_STATUS_SOURCE = ("OpenAI guide, Error codes (401 invalid authentication, 404 model not found, 429 rate limit "
                       "or quota); the genuine OpenAI error bodies pair each code with one status (704 of 704, "
                       "scripts/mine-relations)")


def _bodies(ctx: CheckContext) -> list[tuple[int | None, Any]]:
    return list(enumerate(ctx.chunks)) if ctx.kind == "stream" else [(None, ctx.body)]


@check("chat.logprobs.text", "chat.completion", "stream", source=LOGPROBS_SOURCE)
def logprobs_text(ctx: CheckContext) -> Iterator[Finding]:
    """The tokens of `logprobs.content`, joined, spell the text they describe (the message content, or a chunk's
    delta content): token-level data for another text misleads every client that highlights or scores tokens."""
    for number, body in _bodies(ctx):
        for position, choice in enumerate(choices_of(body)):
            if not isinstance(choice, dict):
                continue
            holder = choice.get("delta" if ctx.kind == "stream" else "message")
            content = holder.get("content") if isinstance(holder, dict) else None
            entries = (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) \
                else None
            if not isinstance(content, str) or not isinstance(entries, list) or not entries:
                continue
            tokens = [e.get("token") for e in entries if isinstance(e, dict)]
            texts = [t for t in tokens if isinstance(t, str)]
            if len(texts) != len(tokens):
                continue  # a token of the wrong type is the schema's finding
            spelt = "".join(texts)
            if spelt != content:
                where = "delta" if ctx.kind == "stream" else "message"
                yield finding("chat.logprobs.text", f"/choices/{position}/logprobs/content",
                              f"the {len(tokens)} logprobs tokens spell another text than the {where} content",
                              expected=content[:120], seen=spelt[:120], event=number)


@check("chat.logprobs.bytes", "chat.completion", "stream", source=LOGPROBS_SOURCE)
def logprobs_bytes(ctx: CheckContext) -> Iterator[Finding]:
    """A token's `bytes` are its UTF-8 encoding (where the bytes are a whole UTF-8 text: a token may be part of a
    multi-byte character, then only its bytes can say it)."""
    for number, body in _bodies(ctx):
        for position, choice in enumerate(choices_of(body)):
            logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
            entries = logprobs.get("content") if isinstance(logprobs, dict) else None
            for token_position, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
                    continue
                raw = entry.get("bytes")
                if not isinstance(raw, list) or not all(isinstance(b, int) and 0 <= b <= 255 for b in raw):
                    continue
                try:
                    text = bytes(raw).decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if text != entry["token"]:
                    yield finding("chat.logprobs.bytes",
                                  f"/choices/{position}/logprobs/content/{token_position}/bytes",
                                  "the token's bytes are not its UTF-8 text", expected=entry["token"][:60],
                                  seen=text[:60], event=number)
                    break


@check("tools.finish_reason.calls", "chat.completion", "stream", severity=Severity.FAILURE, source=FINISH_SOURCE)
def finish_reason_has_calls(ctx: CheckContext) -> Iterator[Finding]:
    """A choice that ends with `finish_reason: "tool_calls"` carries tool calls: an agent loop that sees it runs
    the calls it finds, and with none it has nothing to answer and nothing to show."""
    if ctx.kind == "stream":
        for _, choice in sorted(ctx.streamed.items()):
            for number, reason in choice.finish:
                if reason == "tool_calls" and not choice.calls:
                    yield finding("tools.finish_reason.calls", f"{choice.at(number)}/finish_reason",
                                  "the stream ends with tool_calls but streamed no tool call",
                                  expected="tool-call deltas", seen="none", event=number)
        return
    for position, choice in enumerate(choices_of(ctx.body)):
        if not isinstance(choice, dict) or choice.get("finish_reason") != "tool_calls":
            continue
        message: dict[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
        if not message.get("tool_calls") and not message.get("function_call"):
            yield finding("tools.finish_reason.calls", f"/choices/{position}/finish_reason",
                          "finish_reason is tool_calls but the message has no tool call", expected="tool_calls",
                          seen=message.get("tool_calls"))



def _produced(ctx: CheckContext) -> bool:
    """Whether the answer holds generated output: text or tool calls."""
    if ctx.kind == "stream":
        return any(c.has_content or c.calls for c in ctx.streamed.values())
    for choice in choices_of(ctx.body):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and (message.get("content") or message.get("tool_calls")):
            return True
    return False


def _usage(ctx: CheckContext) -> tuple[Any, str, int | None]:
    if ctx.kind != "stream":
        return (ctx.body.get("usage") if isinstance(ctx.body, dict) else None), "/usage", None
    for number in range(len(ctx.chunks) - 1, -1, -1):
        chunk = ctx.chunks[number]
        if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
            return chunk["usage"], "/usage", number
    return None, "/usage", None


@check("usage.counted", "chat.completion", "stream", "embeddings", source=USAGE_SOURCE)
def usage_counted(ctx: CheckContext) -> Iterator[Finding]:
    """Usage counts what was sent and made: every chat request and every embeddings input has at least one prompt
    token, and an answer with text or tool calls has at least one completion token (a usage of zeros beside a
    real answer makes every cost tracker and rate limiter count nothing)."""
    usage, base, event = _usage(ctx)
    if not isinstance(usage, dict):
        return
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    texts = _texts_sent(ctx.request)
    if not isinstance(prompt, int) or isinstance(prompt, bool):
        prompt = None
    if prompt == 0:
        what = "the input" if ctx.kind == "embeddings" else "the messages"
        yield finding("usage.counted", f"{base}/prompt_tokens", f"prompt_tokens is 0 for a request with {what}",
                      expected=">= 1", seen=0, event=event)
    elif prompt is not None and prompt < texts:
        # Every non-empty text sent is at least one token, in any tokenizer.
        yield finding("usage.counted", f"{base}/prompt_tokens", f"prompt_tokens is {prompt} for a request with "
                      f"{texts} non-empty texts, each at least one token", expected=f">= {texts}", seen=prompt,
                      event=event)
    if ctx.kind != "embeddings" and is_count(completion) and completion == 0 and _produced(ctx):
        yield finding("usage.counted", f"{base}/completion_tokens", "completion_tokens is 0 beside an answer with "
                      "text or tool calls", expected=">= 1", seen=0, event=event)


def _texts_sent(request: dict[str, Any] | None) -> int:
    """How many non-empty texts a request sends: its messages' text contents, or its embeddings inputs."""
    if not request:
        return 0
    inputs = request.get("input")
    if isinstance(inputs, list) and all(isinstance(i, str) for i in inputs):
        return sum(1 for i in inputs if i)
    messages = request.get("messages")
    if isinstance(messages, list):
        return sum(1 for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str) and m["content"])
    return 0


def _asked_model(ctx: CheckContext) -> str | None:
    asked = (ctx.request or {}).get("model")
    return asked if isinstance(asked, str) and asked and "/" not in asked else None


@check("chat.model.named", "chat.completion", "stream", "embeddings", needs_request=True, source=MODEL_SOURCE)
def model_named(ctx: CheckContext) -> Iterator[Finding]:
    """The answer names the model as it was asked for (or its dated snapshot), not as a resource path
    (`models/<model>`): clients that compare the answer's model with the one they chose see another model."""
    asked = _asked_model(ctx)
    if asked is None:
        return
    first = next((c for c in ctx.chunks if isinstance(c, dict)), None) if ctx.kind == "stream" else ctx.body
    answered = first.get("model") if isinstance(first, dict) else None
    if not isinstance(answered, str) or "/" not in answered:
        return
    name = answered.rpartition("/")[2]
    if name == asked or name.startswith(asked + "-"):
        yield finding("chat.model.named", "/model", f"the model asked for as {asked!r} is answered as the resource "
                      f"path {answered!r}", expected=asked, seen=answered, event=0 if ctx.kind == "stream" else None)


# The status OpenAI's error-code guide gives each of these codes; the genuine recordings agree where they hold one.
CODE_STATUS = {"invalid_api_key": 401, "model_not_found": 404, "rate_limit_exceeded": 429,
               "insufficient_quota": 429, "context_length_exceeded": 400, "unsupported_parameter": 400,
               "unsupported_value": 400, "invalid_value": 400, "integer_below_min_value": 400,
               "integer_above_max_value": 400, "decimal_below_min_value": 400, "decimal_above_max_value": 400,
               "invalid_type": 400, "missing_required_parameter": 400, "array_above_max_length": 400,
               "empty_array": 400}
# Where the Responses API answers a code with another status than chat completions: OpenAI's recorded Responses
# answer to an unknown model is HTTP 400 model_not_found (shared/reference/openai-responses-recordings,
# error-400-model-not-found), where chat completions answers 404.
RESPONSES_CODE_STATUS = {**CODE_STATUS, "model_not_found": 400}


def _code_statuses(operation: str) -> dict[str, int]:
    """The code -> status table for the operation's API; for an answer whose operation is not known, only the codes
    whose status every API agrees on."""
    if not operation:
        return {k: v for k, v in CODE_STATUS.items() if RESPONSES_CODE_STATUS[k] == v}
    return RESPONSES_CODE_STATUS if operation.startswith("responses.") else CODE_STATUS


@check("errors.status.code", "error", source=ERROR_STATUS_SOURCE)
def status_matches_code(ctx: CheckContext) -> Iterator[Finding]:
    """An error's `code` and its HTTP status say the same thing: clients retry on the status (429, 5xx) and branch
    on the code, so `rate_limit_exceeded` with 400, or `invalid_api_key` with 500, sends them the wrong way."""
    error = ctx.body.get("error") if isinstance(ctx.body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    statuses = _code_statuses(ctx.operation)
    if ctx.status is None or not isinstance(code, str) or code not in statuses:
        return
    if ctx.status != statuses[code]:
        yield finding("errors.status.code", "/error/code", f"code {code!r} comes with HTTP {ctx.status}",
                      expected=f"HTTP {statuses[code]}", seen=f"HTTP {ctx.status}")


@check("stream.requested", "chat.completion", "stream", "response", "responses.stream", severity=Severity.FAILURE,
       needs_request=True,
       source="OpenAI API reference, Chat Completions and Responses: `stream`, \"If set to true, the model response "
              "data will be streamed to the client as it is generated using server-sent events\"")
def stream_as_requested(ctx: CheckContext) -> Iterator[Finding]:
    """The answer comes in the form the request chose: server-sent events for `stream: true`, one JSON body
    otherwise (a client reads only the form it asked for)."""
    wanted = (ctx.request or {}).get("stream") is True
    if not any(k in (ctx.request or {}) for k in ("messages", "input", "previous_response_id")):
        return  # not a generating request (a read of a stored answer streams nothing)
    if wanted and streamed_kind(ctx.kind):
        yield finding("stream.requested", "", "stream: true was asked for, and one JSON body came",
                      expected="an event stream", seen="a JSON body")
    elif not wanted and is_stream(ctx.kind) and ctx.chunks:
        yield finding("stream.requested", "", "no stream was asked for, and an event stream came",
                      expected="one JSON body", seen=f"a stream of {len(ctx.chunks)} chunk(s)")
