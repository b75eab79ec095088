"""Checks on non-streamed chat completions (OpenAI API reference: "The chat completion object")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.checks.registry import CheckContext, check, finding
from conformance.findings import Finding, Severity


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


@check("chat.choices.count", "chat.completion", severity=Severity.FAILURE, needs_request=True)
def choices_count(ctx: CheckContext) -> Iterator[Finding]:
    """`n` choices come back (1 when `n` is not sent)."""
    wanted = (ctx.request or {}).get("n") or 1
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


@check("chat.choices.index", "chat.completion")
def choices_index(ctx: CheckContext) -> Iterator[Finding]:
    """Choice `index` values run 0..n-1 in order."""
    indexes = [c.get("index") if isinstance(c, dict) else None for c in choices_of(ctx.body)]
    yield from index_findings("chat.choices.index", indexes, "/choices", "choice")


@check("chat.message.content", "chat.completion", severity=Severity.FAILURE)
def message_content(ctx: CheckContext) -> Iterator[Finding]:
    """A choice that calls no tool answers with text."""
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or message.get("tool_calls"):
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
    if all(isinstance(p, int) for p in parts) and parts[0] + parts[1] != parts[2]:
        yield finding(
            check_id, f"{base}/total_tokens",
            f"total_tokens {parts[2]} != prompt_tokens {parts[0]} + completion_tokens {parts[1]}",
            expected=parts[0] + parts[1], seen=parts[2], event=event,
        )


@check("chat.usage.total", "chat.completion")
def usage_total(ctx: CheckContext) -> Iterator[Finding]:
    """`usage.total_tokens` is `prompt_tokens + completion_tokens`."""
    if isinstance(ctx.body, dict):
        yield from usage_findings("chat.usage.total", ctx.body.get("usage"), "/usage")


@check("chat.max_tokens.honoured", "chat.completion", severity=Severity.FAILURE, needs_request=True)
def max_tokens_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """No more than `max_tokens` completion tokens are generated."""
    limit = (ctx.request or {}).get("max_tokens") or (ctx.request or {}).get("max_completion_tokens")
    if not isinstance(limit, int) or not isinstance(ctx.body, dict):
        return
    usage = ctx.body.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    choices = (ctx.request or {}).get("n") or 1
    if isinstance(used, int) and choices > 1:
        limit *= choices  # usage counts the tokens of all choices
    if isinstance(used, int) and used > limit:
        yield finding(
            "chat.max_tokens.honoured", "/usage/completion_tokens",
            f"max_tokens={limit} but {used} completion tokens were generated", expected=f"<= {limit}", seen=used,
        )


def stop_sequences(request: dict[str, Any] | None) -> list[str]:
    stop = (request or {}).get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str) and s] if isinstance(stop, list) else []


@check("chat.stop.honoured", "chat.completion", severity=Severity.FAILURE, needs_request=True)
def stop_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """The text ends before any `stop` sequence, which is not included."""
    for sequence in stop_sequences(ctx.request):
        for number, choice in enumerate(choices_of(ctx.body)):
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str) and sequence in content:
                yield finding(
                    "chat.stop.honoured", f"/choices/{number}/message/content",
                    f"stop sequence {sequence!r} appears in the text", expected=f"text without {sequence!r}",
                    seen=content[:120],
                )
