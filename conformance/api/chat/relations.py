"""What the contract means beyond each field's shape: relations between fields that the spec states in words.

Each check here traces to a sentence of the pinned spec (``conformance/data/normative.json`` lists them all, with
the statements no wire answer can show): parts of a usage count are parts of its whole, ids are unique, a
``length`` finish means the limit was reached, a stream's deltas add up to the text, and the JSON a client parses
is JSON (RFC 8259), not JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from conformance.api.chat.checks import choices_of
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity, escape_token, is_count
from conformance.wire.strict_json import strict_problems

# CompletionUsage: each detail is a part of the count it details (the spec's "Breakdown of tokens used in a
# completion" / "in the prompt").
_PARTS = {"completion_tokens_details": ("completion_tokens", ("reasoning_tokens", "audio_tokens",
                                                              "accepted_prediction_tokens",
                                                              "rejected_prediction_tokens")),
          "prompt_tokens_details": ("prompt_tokens", ("cached_tokens", "audio_tokens"))}



def usage_part_findings(usage: Any, base: str, event: int | None = None) -> Iterator[Finding]:
    if not isinstance(usage, dict):
        return
    counts = [(f"/{escape_token(key)}", key, value) for key, value in usage.items()]
    counts += [(f"/{escape_token(key)}/{escape_token(part)}", f"{key}.{part}", value) for key, details in usage.items()
               if isinstance(details, dict) for part, value in details.items()]
    for pointer, name, value in counts:
        if is_count(value) and value < 0:
            yield finding("usage.parts", f"{base}{pointer}", f"{name} is negative", expected=">= 0", seen=value,
                          event=event)
    for details_key, (whole_key, parts) in _PARTS.items():
        details, whole = usage.get(details_key), usage.get(whole_key)
        if not isinstance(details, dict) or not is_count(whole):
            continue
        for part in parts:
            value = details.get(part)
            if is_count(value) and value > whole:
                yield finding("usage.parts", f"{base}/{details_key}/{part}",
                              f"{details_key}.{part} ({value}) exceeds {whole_key} ({whole}), which it is part of",
                              expected=f"<= {whole}", seen=value, event=event)
        reasoning, audio = details.get("reasoning_tokens"), details.get("audio_tokens")
        if details_key == "completion_tokens_details" and is_count(reasoning) and is_count(audio) and \
                reasoning <= whole and audio <= whole and reasoning + audio > whole:
            yield finding("usage.parts", f"{base}/{details_key}", f"reasoning_tokens + audio_tokens "
                          f"({reasoning + audio}) exceed completion_tokens ({whole})", expected=f"<= {whole}",
                          seen=reasoning + audio, event=event)
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    if is_count(prompt) and is_count(total) and prompt > total:
        yield finding("usage.parts", f"{base}/prompt_tokens", f"prompt_tokens ({prompt}) exceeds total_tokens "
                      f"({total})", expected=f"<= {total}", seen=prompt, event=event)


@check("usage.parts", "chat.completion", "stream", "embeddings",
       source="OpenAI API reference, the completion usage object: completion_tokens_details and "
              "prompt_tokens_details break those counts down")
def usage_parts(ctx: CheckContext) -> Iterator[Finding]:
    """A usage breakdown fits its whole: reasoning, audio and prediction tokens are parts of `completion_tokens`,
    cached and audio tokens parts of `prompt_tokens`; no count is negative (streamed and not)."""
    if ctx.kind == "stream":
        for number, chunk in enumerate(ctx.chunks):
            if isinstance(chunk, dict):
                yield from usage_part_findings(chunk.get("usage"), "/usage", number)
    elif isinstance(ctx.body, dict):
        yield from usage_part_findings(ctx.body.get("usage"), "/usage")


@check("tools.call.id.unique", "chat.completion", "stream",
       source="OpenAI guide, Function calling: each tool result names the call it answers by its id")
def call_ids_unique(ctx: CheckContext) -> Iterator[Finding]:
    """Tool-call ids are unique within an answer: a tool message is matched to its call by `tool_call_id`, so two
    calls with one id cannot both be answered."""
    from conformance.api.chat.tools import calls_by_choice

    seen: dict[str, str] = {}
    for choice in calls_by_choice(ctx):
        for call in choice.calls:
            if not isinstance(call.id, str) or not call.id:
                continue  # a missing id is tools.call.id's finding
            if call.id in seen:
                yield finding("tools.call.id.unique", f"{call.pointer}/id", f"tool call id {call.id!r} is also the "
                              f"id of the call at {seen[call.id]}", expected="a unique id", seen=call.id,
                              event=call.event)
            else:
                seen[call.id] = call.pointer


def _limit(request: dict[str, Any] | None) -> tuple[str, int] | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = (request or {}).get(name)
        if is_count(value) and value > 0:
            return name, value
    return None


@check("chat.finish_reason.length", "chat.completion", "stream", needs_request=True,
       source="OpenAI API reference, the chat completion object: finish_reason is `length` if the maximum number "
              "of tokens specified in the request was reached")
def finish_reason_length(ctx: CheckContext) -> Iterator[Finding]:
    """`finish_reason: "length"` means the token limit of the request was reached: with fewer completion tokens
    than the limit, the answer was cut for another reason (or was not cut at all)."""
    limit = _limit(ctx.request)
    if limit is None:
        return
    name, value = limit
    finishes: list[tuple[int | None, int, Any]]
    if ctx.kind == "stream":
        usage = next((c.get("usage") for c in reversed(ctx.chunks) if isinstance(c, dict)
                      and isinstance(c.get("usage"), dict)), None)
        finishes = [(n, i, f) for i, choice in ctx.streamed.items() for n, f in choice.finish]
    else:
        usage = ctx.body.get("usage") if isinstance(ctx.body, dict) else None
        finishes = [(None, number, c.get("finish_reason")) for number, c in enumerate(choices_of(ctx.body))
                    if isinstance(c, dict)]
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not is_count(used):
        return
    for event, index, reason in finishes:
        if reason == "length" and used < value:
            yield finding("chat.finish_reason.length", f"/choices/{index}/finish_reason", f"finish_reason is "
                          f"'length' but only {used} completion token(s) were generated of {name}={value}",
                          expected=f"completion_tokens >= {value}, or another finish_reason", seen=used, event=event)


@check("stream.delta.cumulative", "stream",
       source="OpenAI API reference, the chat completion chunk object: `delta` is a chat completion delta generated "
              "by streamed model responses")
def delta_cumulative(ctx: CheckContext) -> Iterator[Finding]:
    """A delta is what was added: a stream whose every content delta repeats the text so far (and adds to it) gives
    every client the text many times over."""
    deltas: dict[int, list[tuple[int, str, str]]] = {}  # choice index -> (chunk, pointer, text) of each delta
    for number, chunk in enumerate(ctx.chunks):
        for position, choice in enumerate(chunk.get("choices") or [] if isinstance(chunk, dict) else []):
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict) and isinstance(delta.get("content"), str) and delta["content"]:
                deltas.setdefault(choice.get("index", position), []).append(
                    (number, f"/choices/{position}/delta/content", delta["content"]))
    for index, parts in deltas.items():
        if len(parts) < 3:
            continue
        texts = [text for _, _, text in parts]
        if all(later.startswith(earlier) and len(later) > len(earlier) for earlier, later in pairwise(texts)):
            number, pointer, _ = parts[1]
            yield finding("stream.delta.cumulative", pointer, f"each of the {len(parts)} content deltas of choice "
                          f"{index} repeats the text so far: they are snapshots, not deltas",
                          expected="each delta adds only new text", seen=f"{len(parts)} cumulative deltas",
                          event=number)


@check("json.strict", "chat.completion", "stream", "embeddings", "error", "models", "model", "images",
       severity=Severity.FAILURE, source="RFC 8259 sections 6 and 8.2")
def json_strict(ctx: CheckContext) -> Iterator[Finding]:
    """Bodies and stream events are JSON a strict parser reads: no NaN or Infinity literals, no lone surrogates
    (JavaScript's JSON.parse, and so the Node.js SDK, rejects the first; the second is not text)."""
    bodies = list(enumerate(ctx.chunks)) if ctx.kind == "stream" else [(None, ctx.body)]
    for number, body in bodies:
        for pointer, problem in strict_problems(body):
            yield finding("json.strict", pointer, problem, expected="strict JSON", seen=problem.split(" ")[0],
                          event=number)


REASONING_BLOCK = re.compile(r"^\s*<(think|thinking|thought|reasoning)>(.*?)</\1>", re.IGNORECASE | re.DOTALL)


def _texts(ctx: CheckContext) -> list[tuple[str, int | None, Any]]:
    """(pointer, chunk, text) of each choice's answer text, a stream's joined."""
    if ctx.kind == "stream":
        return [(f"/choices/{index}/delta/content", choice.events[0] if choice.events else None, choice.content)
                for index, choice in sorted(ctx.streamed.items())]
    texts: list[tuple[str, int | None, Any]] = []
    for number, choice in enumerate(choices_of(ctx.body)):
        message = choice.get("message") if isinstance(choice, dict) else None
        texts.append((f"/choices/{number}/message/content", None,
                      message.get("content") if isinstance(message, dict) else None))
    return texts


@check("reasoning.in_content", "chat.completion", "stream", severity=Severity.FAILURE,
       source="OpenAI guide, Reasoning: reasoning tokens are not part of the message content; Gemini's layer "
              "returns thoughts inline when include_thoughts is set (discuss.ai.google.dev/t/87141)")
def reasoning_in_content(ctx: CheckContext) -> Iterator[Finding]:
    """The answer's text is the answer: a reasoning block inside `content` (`<think>...</think>`, `<thought>`,
    `<thinking>`) is shown by every OpenAI client to the user as if it were the answer."""
    for pointer, event, text in _texts(ctx):
        match = REASONING_BLOCK.match(text) if isinstance(text, str) else None
        if match:
            yield finding("reasoning.in_content", pointer, f"the text opens with the model's reasoning in a "
                          f"<{match.group(1)}> block ({len(match.group(2))} characters) before the answer",
                          expected="the answer only (reasoning in usage, or not sent)",
                          seen=f"<{match.group(1)}>...</{match.group(1)}>", event=event)
            continue
        # The opening tag was part of the prompt (a chat template that starts the turn with <think>), so only the
        # reasoning and its closing tag reach the content: the same leak, without its first line.
        closing = REASONING_CLOSE.search(text) if isinstance(text, str) else None
        if closing and not re.search(f"<{closing.group(1)}>", text[:closing.start()], re.IGNORECASE):
            yield finding("reasoning.in_content", pointer, f"the text holds the model's reasoning up to a closing "
                          f"</{closing.group(1)}> tag ({closing.start()} characters) before the answer",
                          expected="the answer only (reasoning in usage, or not sent)",
                          seen=f"...</{closing.group(1)}>", event=event)


REASONING_CLOSE = re.compile(r"</(think|thinking|thought|reasoning)>", re.IGNORECASE)
# How chat templates spell a tool call in text, when a server's tool parser did not turn it into `tool_calls`:
# Hermes/Qwen <tool_call>, Llama 3 <|python_tag|>, Mistral [TOOL_CALLS], Llama 3.1's <function=...>, DeepSeek's
# tool-call tokens, Phi/Granite <|tool_call|>, functools[...] and a bare <tools> block.
TOOL_MARKUP = re.compile(r"<tool_call>|<\|python_tag\|>|\[TOOL_CALLS\]|<function=[\w.-]+>|<｜tool▁calls▁begin｜>|"
                          r"<\|tool_call\|>|<\|tool_calls\|>|functools\[|<tools>\s*[\[{]")


@check("tools.call.in_content", "chat.completion", "stream", severity=Severity.FAILURE,
       source="OpenAI guide, Function calling: the model's calls come back in `tool_calls` (the server parses "
              "them); public reports against vLLM, Ollama, llama.cpp and LiteLLM of calls left as template text")
def tool_call_in_content(ctx: CheckContext) -> Iterator[Finding]:
    """A tool call travels in `tool_calls`, not as the chat template's markup inside `content` (`<tool_call>`,
    `[TOOL_CALLS]`, `<|python_tag|>`...): no client runs a call written as text, and the user sees the markup. Judged
    when the request declared tools (or, for a capture judged alone, whenever the markup is there)."""
    if ctx.request is not None and not ctx.request.get("tools"):
        return
    for pointer, event, text in _texts(ctx):
        match = TOOL_MARKUP.search(text) if isinstance(text, str) else None
        if match:
            yield finding("tools.call.in_content", pointer, f"the text holds a tool call written as template "
                          f"markup ({match.group(0)!r}), which no client runs", expected="the call in tool_calls",
                          seen=text[max(0, match.start() - 20):match.end() + 60], event=event)


@check("reasoning.tokens.reported", "chat.completion", "stream", needs_request=True,
       source="OpenAI API reference, the completion usage object: completion_tokens_details.reasoning_tokens, "
              "\"Tokens generated by the model for reasoning\"")
def reasoning_tokens_reported(ctx: CheckContext) -> Iterator[Finding]:
    """A request with `reasoning_effort` that a server accepts is a reasoning request: its usage says how many of
    the completion tokens were reasoning (`completion_tokens_details.reasoning_tokens`), as OpenAI's does."""
    effort = (ctx.request or {}).get("reasoning_effort")
    if not isinstance(effort, str) or effort == "none":
        return
    found: list[tuple[int | None, dict[str, Any]]]
    if ctx.kind == "stream":
        found = [(n, c["usage"]) for n, c in enumerate(ctx.chunks) if isinstance(c, dict)
                 and isinstance(c.get("usage"), dict)]
    else:
        found = [(None, ctx.body["usage"])] if isinstance(ctx.body, dict) and isinstance(
            ctx.body.get("usage"), dict) else []
    for event, usage in found[-1:]:
        details = usage.get("completion_tokens_details")
        if not isinstance(details, dict) or not is_count(details.get("reasoning_tokens")):
            yield finding("reasoning.tokens.reported", "/usage/completion_tokens_details/reasoning_tokens",
                          f"reasoning_effort {effort!r} was accepted but the usage does not say how many tokens "
                          "were reasoning", expected="an integer", seen=None, event=event)
