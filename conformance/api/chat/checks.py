"""Checks on non-streamed chat completions (OpenAI API reference: "The chat completion object")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.checks.registry import CheckContext, check, finding
from conformance.checks.user_schemas import validator_for
from conformance.model.findings import Finding, Severity


def choices_of(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("choices"), list):
        return body["choices"]
    return []


@check("chat.choices.present", "chat.completion", severity=Severity.FAILURE)
def choices_present(ctx: CheckContext) -> Iterator[Finding]:
    """A completion carries at least one choice with a message."""
    choices = choices_of(ctx.body)
    if not choices:
        yield finding("chat.choices.present", "/choices", "the response has no choices", expected=">= 1", seen=0)
    for number, choice in enumerate(choices):
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            yield finding(
                "chat.choices.present", f"/choices/{number}/message", "choice has no message object",
                expected="object", seen="absent",
            )


@check("chat.choices.count", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def choices_count(ctx: CheckContext) -> Iterator[Finding]:
    """`n` choices come back (1 when `n` is not sent), streamed or not."""
    wanted = (ctx.request or {}).get("n") or 1
    if ctx.kind == "stream":
        if ctx.truncated or not ctx.chunks:
            return  # a cut or empty stream is its own finding (stream.done, stream.chunks.present)
        seen = len(ctx.streamed)
    else:
        seen = len(choices_of(ctx.body))
    if seen != wanted:
        yield finding(
            "chat.choices.count", "/choices", f"asked for n={wanted}, got {seen} choice(s)", expected=wanted, seen=seen
        )


def index_findings(check_id: str, indexes: list[Any], base: str, what: str) -> Iterator[Finding]:
    """Indexes must be 0..k-1, each once, in order; shared by choices and embeddings."""
    for position, index in enumerate(indexes):
        if index is None:
            continue  # a missing index is the schema's finding
        if index != position:
            yield finding(
                check_id, f"{base}/{position}/index", f"{what} at position {position} has index {index!r}",
                expected=position, seen=index,
            )


@check("chat.choices.index", "chat.completion", "stream")
def choices_index(ctx: CheckContext) -> Iterator[Finding]:
    """Choice `index` values run 0..n-1 in order (in a stream: the choices streamed are 0..k-1, none skipped)."""
    if ctx.kind == "stream":
        streamed = sorted(ctx.streamed)
        for position, index in enumerate(streamed):
            if index != position:
                choice = ctx.streamed[index]
                yield finding("chat.choices.index", f"{choice.at(choice.first_event)}/index",
                              f"the stream's choices are {streamed[:6]}, not 0..{len(streamed) - 1}",
                              expected=position, seen=index, event=choice.first_event)
                return
        return
    indexes = [c.get("index") if isinstance(c, dict) else None for c in choices_of(ctx.body)]
    yield from index_findings("chat.choices.index", indexes, "/choices", "choice")


# Message fields that carry the answer instead of `content` (which is nullable in ChatCompletionResponseMessage).
ANSWER_FIELDS = ("tool_calls", "refusal", "audio", "function_call")


@check("chat.message.content", "chat.completion", severity=Severity.FAILURE, nature="behaviour",
       applies=lambda request, _: "messages" in request and not request.get("stream") and not request.get("stop")
       and (not request.get("tools") or request.get("tool_choice") == "none"))
def message_content(ctx: CheckContext) -> Iterator[Finding]:
    """A choice that calls no tool answers with text (`content` may be null beside a refusal, an audio answer, tool
    calls or a legacy function call: ChatCompletionResponseMessage.content is nullable). A behaviour: whether a
    sampled model writes anything is its choice (Gemini's thinking models are reported answering with empty
    content), so over repeated samples this is a rate."""
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or any(message.get(key) for key in ANSWER_FIELDS):
            continue
        if choice.get("finish_reason") in ("length", "content_filter") or stop_sequences(ctx.request):
            continue  # a cut answer, or a stop sequence at the very start, may be empty
        content = message.get("content")
        if not isinstance(content, str) or not content:
            yield finding(
                "chat.message.content", f"/choices/{number}/message/content",
                "no text in a choice that made no tool call", expected="non-empty string", seen=content,
            )


def usage_findings(check_id: str, usage: Any, base: str, event: int | None = None) -> Iterator[Finding]:
    if not isinstance(usage, dict):
        return
    parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    counts = [p for p in parts if isinstance(p, int)]
    if len(counts) == 3 and counts[0] + counts[1] != counts[2]:
        yield finding(
            check_id, f"{base}/total_tokens",
            f"total_tokens {counts[2]} != prompt_tokens {counts[0]} + completion_tokens {counts[1]}",
            expected=counts[0] + counts[1], seen=counts[2], event=event,
        )


@check("chat.usage.total", "chat.completion")
def usage_total(ctx: CheckContext) -> Iterator[Finding]:
    """`usage.total_tokens` is `prompt_tokens + completion_tokens`."""
    if isinstance(ctx.body, dict):
        yield from usage_findings("chat.usage.total", ctx.body.get("usage"), "/usage")


@check("chat.max_tokens.honoured", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def max_tokens_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """No more than `max_tokens` completion tokens are generated (streamed: as the usage chunk counts them)."""
    name = "max_tokens" if (ctx.request or {}).get("max_tokens") else "max_completion_tokens"
    limit = (ctx.request or {}).get(name)
    event = None
    if ctx.kind == "stream":
        event = next((n for n in range(len(ctx.chunks) - 1, -1, -1) if isinstance(ctx.chunks[n], dict)
                      and isinstance(ctx.chunks[n].get("usage"), dict)), None)
        body = ctx.chunks[event] if event is not None else None
    else:
        body = ctx.body
    if not isinstance(limit, int) or not isinstance(body, dict):
        return
    usage = body.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    choices = (ctx.request or {}).get("n") or 1
    if isinstance(used, int) and choices > 1:
        limit *= choices  # usage counts the tokens of all choices
    if isinstance(used, int) and used > limit:
        yield finding(
            "chat.max_tokens.honoured", "/usage/completion_tokens",
            f"{name}={limit} but {used} completion tokens were generated", expected=f"<= {limit}", seen=used,
            event=event,
        )


def stop_sequences(request: dict[str, Any] | None) -> list[str]:
    stop = (request or {}).get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str) and s] if isinstance(stop, list) else []


@check("chat.stop.honoured", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       nature="behaviour", applies=lambda request, _: bool(request.get("stop")))
def stop_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """The text ends before any `stop` sequence: "The returned text will not contain the stop sequence" (API
    reference, `stop`), streamed or not. A behaviour: only an answer in which the model would have written the
    sequence can show that the server ignores `stop`."""
    texts: list[tuple[int, Any]]
    if ctx.kind == "stream":
        texts = [(index, choice.content) for index, choice in sorted(ctx.streamed.items())]
    else:
        texts = []
        for number, choice in enumerate(choices_of(ctx.body)):
            message = choice.get("message") if isinstance(choice, dict) else None
            texts.append((number, message.get("content") if isinstance(message, dict) else None))
    for sequence in stop_sequences(ctx.request):
        for number, content in texts:
            if isinstance(content, str) and sequence in content:
                yield finding(
                    "chat.stop.honoured", f"/choices/{number}/message/content",
                    f"stop sequence {sequence!r} appears in the text", expected=f"text without {sequence!r}",
                    seen=content[:120],
                )


# Not a Unix time in seconds: before 2001 (the recordings' placeholder 1234567890 is later) or over a day ahead.
EARLIEST_CREATED = 1_000_000_000  # 2001-09-09: earlier than any real answer, and below every millisecond value
CREATED_SLACK_S = 86_400


def created_findings(check_id: str, created: Any, pointer: str, event: int | None = None) -> Iterator[Finding]:
    import time

    if not isinstance(created, int) or isinstance(created, bool):
        return  # a wrong type is the schema's finding
    latest = int(time.time()) + CREATED_SLACK_S
    if not EARLIEST_CREATED <= created <= latest:
        unit = " (milliseconds?)" if created > latest * 100 else ""
        yield finding(check_id, pointer, f"created {created} is not a plausible Unix time in seconds{unit}",
                      expected=f"{EARLIEST_CREATED}..{latest}", seen=created, event=event)


@check("chat.created.seconds", "chat.completion", "stream")
def created_seconds(ctx: CheckContext) -> Iterator[Finding]:
    """`created` is a Unix timestamp in seconds (the chat completion object), not milliseconds."""
    if ctx.kind == "stream":
        seen = set()
        for number, chunk in enumerate(ctx.chunks):
            value = chunk.get("created") if isinstance(chunk, dict) else None
            if value not in seen:
                seen.add(value)
                yield from created_findings("chat.created.seconds", value, "/created", number)
    elif isinstance(ctx.body, dict):
        yield from created_findings("chat.created.seconds", ctx.body.get("created"), "/created")


@check("chat.id.present", "chat.completion", "stream")
def id_present(ctx: CheckContext) -> Iterator[Finding]:
    """The completion (every chunk of a stream) has a non-empty `id`: clients key conversations and logs on it."""
    bodies = list(enumerate(ctx.chunks)) if ctx.kind == "stream" else [(None, ctx.body)]
    for number, body in bodies:
        if isinstance(body, dict) and body.get("id") == "":
            yield finding("chat.id.present", "/id", "id is an empty string", expected="non-empty string", seen="",
                          event=number)


def _logprob_values(choice: Any, base: str) -> Iterator[tuple[str, Any]]:
    logprobs = choice.get("logprobs") if isinstance(choice, dict) else None
    if not isinstance(logprobs, dict):
        return
    for field in ("content", "refusal"):
        tokens = logprobs.get(field)
        for position, token in enumerate(tokens if isinstance(tokens, list) else []):
            if not isinstance(token, dict):
                continue
            yield f"{base}/logprobs/{field}/{position}/logprob", token.get("logprob")
            for top, alternative in enumerate(token.get("top_logprobs") or []):
                if isinstance(alternative, dict):
                    yield (f"{base}/logprobs/{field}/{position}/top_logprobs/{top}/logprob",
                           alternative.get("logprob"))


@check("chat.logprobs.range", "chat.completion", "stream")
def logprobs_range(ctx: CheckContext) -> Iterator[Finding]:
    """Log-probabilities are <= 0 (a log of a probability): a value above 0 is a probability or a score."""
    bodies = list(enumerate(ctx.chunks)) if ctx.kind == "stream" else [(None, ctx.body)]
    for number, body in bodies:
        for position, choice in enumerate(choices_of(body)):
            for pointer, value in _logprob_values(choice, f"/choices/{position}"):
                if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    yield finding("chat.logprobs.range", pointer, f"logprob {value} is above 0", expected="<= 0",
                                  seen=value, event=number)


@check("chat.logprobs.requested", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True)
def logprobs_requested(ctx: CheckContext) -> Iterator[Finding]:
    """With `logprobs: true` every choice carries `logprobs.content`, one entry per token, each with at most
    `top_logprobs` alternatives ("may be fewer than the requested", but not none) (OpenAI API reference,
    `logprobs` / `top_logprobs`)."""
    request = ctx.request or {}
    if request.get("logprobs") is not True:
        return
    wanted = request.get("top_logprobs")
    bodies = list(enumerate(ctx.chunks)) if ctx.kind == "stream" else [(None, ctx.body)]
    for number, body in bodies:
        for position, choice in enumerate(choices_of(body)):
            if not isinstance(choice, dict) or (ctx.kind == "stream" and choice.get("finish_reason")
                                                and not (choice.get("delta") or {}).get("content")):
                continue
            logprobs = choice.get("logprobs")
            content = logprobs.get("content") if isinstance(logprobs, dict) else None
            message: dict[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
            if ctx.kind != "stream" and message.get("content") == "" and not content:
                continue  # an empty answer has no token to describe: null and [] say the same
            if not isinstance(content, list) or (ctx.kind != "stream" and not content):
                yield finding("chat.logprobs.requested", f"/choices/{position}/logprobs", "logprobs were asked "
                              "for but the choice has none", expected="logprobs.content list",
                              seen=_kind(logprobs), event=number)
                continue
            for token_position, token in enumerate(content):
                alternatives = token.get("top_logprobs") if isinstance(token, dict) else None
                # "The number of entries may be fewer than the requested top_logprobs" (ChatCompletionTokenLogprob):
                # fewer is legal, more than asked (or none where some were asked) is not.
                given = len(alternatives) if isinstance(alternatives, list) else None
                if isinstance(wanted, int) and (given is None or given > wanted or (wanted > 0 and given == 0)):
                    yield finding("chat.logprobs.requested",
                                  f"/choices/{position}/logprobs/content/{token_position}/top_logprobs",
                                  f"top_logprobs={wanted} asked, {given or 0} given", expected=f"1..{wanted}"
                                  if wanted else 0, seen=given or 0, event=number)
                    break


def _kind(value: Any) -> str:
    from conformance.model.findings import json_type

    return json_type(value)


@check("chat.response_format", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       source="OpenAI guide, Structured outputs; API reference `response_format`")
def response_format(ctx: CheckContext) -> Iterator[Finding]:
    """With `response_format` json_object the text is one JSON object; with json_schema it also validates against
    the schema sent (a refusal or a cut answer is exempt); a stream's assembled text is judged the same way."""
    from conformance.wire.strict_json import strict_loads

    wanted = (ctx.request or {}).get("response_format")
    if not isinstance(wanted, dict) or wanted.get("type") not in ("json_object", "json_schema"):
        return
    schema = (wanted.get("json_schema") or {}).get("schema") if wanted["type"] == "json_schema" else None
    for content, pointer in _answer_texts(ctx):
        try:
            value = strict_loads(content) if isinstance(content, str) else None
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            yield finding("chat.response_format", pointer, f"{wanted['type']} was asked for but the text is not a "
                          "JSON object", expected="a JSON object", seen=content[:120] if isinstance(content, str)
                          else content)
            continue
        validator = validator_for(schema)
        for error in validator.iter_errors(value) if validator else []:
            yield finding("chat.response_format", pointer, f"the JSON does not match the schema: {error.message[:160]}",
                          expected=f"{error.validator}: {error.validator_value}", seen=str(error.instance)[:120])
            break


def _answer_texts(ctx: CheckContext) -> Iterator[tuple[Any, str]]:
    """(text, pointer) of each choice whose text a format obliges: not cut, not refused (a stream's choice only when
    it finished and streamed text, since a refusal or tool calls stream none)."""
    if ctx.kind == "stream":
        if ctx.truncated:
            return
        for index, choice in sorted(ctx.streamed.items()):
            reasons = [reason for _, reason in choice.finish]
            if reasons and "length" not in reasons and not choice.calls and choice.has_content:
                yield choice.content, f"/choices/{index}/delta/content"
        return
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and not message.get("refusal") and choice.get("finish_reason") != "length":
            yield message.get("content"), f"/choices/{number}/message/content"


def _wants_audio(request: dict[str, Any] | None) -> bool:
    modalities = (request or {}).get("modalities")
    return isinstance(modalities, list) and "audio" in modalities


@check("chat.audio.requested", "chat.completion", "stream", severity=Severity.FAILURE, needs_request=True,
       source="OpenAI API reference, Chat Completions: `modalities` [\"text\", \"audio\"] makes the model generate "
              "audio; the message's `audio` object (id, data, expires_at, transcript) carries it, a stream's "
              "deltas carry it in `delta.audio`")
def audio_requested(ctx: CheckContext) -> Iterator[Finding]:
    """`modalities` with "audio": every answering choice carries its audio (the message's `audio`, or audio
    deltas in a stream); a server that answers in text alone has dropped what was asked (a refusal, a tool call or
    a cut answer is exempt)."""
    if not _wants_audio(ctx.request):
        return
    if ctx.kind == "stream":
        if ctx.truncated or not ctx.chunks:
            return
        heard = {choice.get("index", 0) for chunk in ctx.chunks if isinstance(chunk, dict)
                 for choice in chunk.get("choices") or [] if isinstance(choice, dict)
                 and isinstance(choice.get("delta"), dict) and choice["delta"].get("audio")}
        for index, choice in sorted(ctx.streamed.items()):
            reasons = [reason for _, reason in choice.finish]
            if index not in heard and not choice.calls and "length" not in reasons and "content_filter" not in reasons:
                yield finding("chat.audio.requested", f"/choices/{index}/delta/audio", "audio was asked for "
                              "(modalities) and the stream carried none for this choice", expected="audio deltas",
                              seen="none", event=choice.first_event)
        return
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or message.get("refusal") or message.get("tool_calls") or \
                choice.get("finish_reason") in ("length", "content_filter"):
            continue
        if not isinstance(message.get("audio"), dict):
            yield finding("chat.audio.requested", f"/choices/{number}/message/audio", "audio was asked for "
                          "(modalities) and the message has none", expected="an audio object",
                          seen=message.get("audio"))
