"""Deviation injectors: every way an "OpenAI compatible" server has been seen to depart from OpenAI.

Each injector takes a recorded exchange and applies one deviation class, the way a real server did it; the
``expect`` check ids are the checks that must catch it. ``source`` says where the deviation was reported
(Gemini's OpenAI-compatibility layer unless said otherwise) or which part of the OpenAI contract it breaks.
An injector returns False when the exchange offers nothing to apply it to (no tool call to break, ...).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.api.chat.tools import forced
from conformance.selftest.samples import NOT_JSON, Sample

Apply = Callable[[Sample], bool]


@dataclass(frozen=True)
class Injector:
    id: str
    kinds: tuple[str, ...]
    apply: Apply
    expect: tuple[str, ...]
    source: str
    doc: str


INJECTORS: dict[str, Injector] = {}
OPENAI_CONTRACT = "OpenAI API reference (openai-openapi@f85dbe2)"


def injector(injector_id: str, *kinds: str, expect: tuple[str, ...], source: str) -> Callable[[Apply], Apply]:
    def register(func: Apply) -> Apply:
        INJECTORS[injector_id] = Injector(injector_id, kinds, func, expect, source,
                                          (func.__doc__ or "").strip().splitlines()[0])
        return func

    return register


def choices(sample: Sample) -> list[dict[str, Any]]:
    body = sample.body
    if isinstance(body, dict) and isinstance(body.get("choices"), list):
        return [c for c in body["choices"] if isinstance(c, dict)]
    return []


def messages(sample: Sample) -> Iterator[dict[str, Any]]:
    for choice in choices(sample):
        if isinstance(choice.get("message"), dict):
            yield choice["message"]


def tool_calls(sample: Sample) -> list[dict[str, Any]]:
    return [c for m in messages(sample) for c in m.get("tool_calls") or [] if isinstance(c, dict)]


def delete_key(node: Any, key: str) -> bool:
    if isinstance(node, dict) and key in node:
        del node[key]
        return True
    return False


def edit_chunks(sample: Sample, edit: Callable[[list[Any]], bool]) -> bool:
    chunks = sample.chunks
    if not chunks or not edit(chunks):
        return False
    sample.set_chunks(chunks)
    return True


def chunk_choices(chunks: list[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, chunk in enumerate(chunks):
        for choice in chunk.get("choices") or [] if isinstance(chunk, dict) else []:
            if isinstance(choice, dict):
                yield number, choice


def tool_deltas(chunks: list[Any]) -> Iterator[dict[str, Any]]:
    for _, choice in chunk_choices(chunks):
        delta = choice.get("delta")
        for call in (delta.get("tool_calls") or []) if isinstance(delta, dict) else []:
            if isinstance(call, dict):
                yield call


# --- Non-streamed chat completions -----------------------------------------------------------------------------

@injector("chat.id.missing", "chat.completion", expect=("schema.chat.completion",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def chat_id_missing(sample: Sample) -> bool:
    """The completion has no top-level id."""
    return delete_key(sample.body, "id")


@injector("chat.logprobs.omitted", "chat.completion", expect=("schema.chat.completion",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def chat_logprobs_omitted(sample: Sample) -> bool:
    """Choices leave out `logprobs` instead of sending null."""
    return any([delete_key(c, "logprobs") for c in choices(sample)])


@injector("chat.refusal.omitted", "chat.completion", expect=("schema.chat.completion",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def chat_refusal_omitted(sample: Sample) -> bool:
    """Messages leave out `refusal` instead of sending null."""
    return any([delete_key(m, "refusal") for m in messages(sample)])


@injector("chat.message.omitted", "chat.completion", expect=("schema.chat.completion", "chat.choices.present"),
          source="https://github.com/agentgateway/agentgateway/issues/1464")
def chat_message_omitted(sample: Sample) -> bool:
    """A choice comes without a message (empty or blocked output)."""
    return any([delete_key(c, "message") for c in choices(sample)])


@injector("chat.usage.total_mismatch", "chat.completion", expect=("chat.usage.total",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def chat_usage_total(sample: Sample) -> bool:
    """`total_tokens` counts hidden thinking tokens: it is not prompt + completion."""
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(usage, dict) or not isinstance(usage.get("total_tokens"), int):
        return False
    usage["total_tokens"] += 286
    return True


@injector("chat.created.string", "chat.completion", expect=("schema.chat.completion",), source=OPENAI_CONTRACT)
def chat_created_string(sample: Sample) -> bool:
    """`created` is sent as a string instead of a Unix timestamp integer."""
    if not isinstance(sample.body, dict) or not isinstance(sample.body.get("created"), int):
        return False
    sample.body["created"] = str(sample.body["created"])
    return True


@injector("n.ignored", "chat.completion", expect=("chat.choices.count",),
          source="https://github.com/router-for-me/CLIProxyAPI/issues/961")
def n_ignored(sample: Sample) -> bool:
    """`n` > 1 is ignored: one choice comes back."""
    if (sample.request.get("n") or 1) < 2 or len(choices(sample)) < 2:
        return False
    sample.body["choices"] = sample.body["choices"][:1]
    return True


@injector("chat.choices.index_repeated", "chat.completion", expect=("chat.choices.index",), source=OPENAI_CONTRACT)
def choices_index_repeated(sample: Sample) -> bool:
    """Every choice claims index 0."""
    found = choices(sample)
    if len(found) < 2:
        return False
    for choice in found:
        choice["index"] = 0
    return True


@injector("tools.finish_reason.stop", "chat.completion", expect=("tools.finish_reason",),
          source="https://github.com/microsoft/autogen/issues/4878")
def tools_finish_stop(sample: Sample) -> bool:
    """Tool calls come back with `finish_reason: "stop"` (under tool_choice auto: a forced call may say "stop")."""
    if forced(sample.request):
        return False
    changed = False
    for choice in choices(sample):
        if (choice.get("message") or {}).get("tool_calls") and choice.get("finish_reason") != "stop":
            choice["finish_reason"] = "stop"
            changed = True
    return changed


@injector("tools.id.empty", "chat.completion", expect=("tools.call.id",),
          source="https://github.com/microsoft/autogen/issues/4878")
def tools_id_empty(sample: Sample) -> bool:
    """Tool-call ids are empty strings."""
    calls = tool_calls(sample)
    for call in calls:
        call["id"] = ""
    return bool(calls)


@injector("tools.arguments.invalid_json", "chat.completion", expect=("tools.call.arguments.json",),
          source=OPENAI_CONTRACT)
def tools_arguments_invalid(sample: Sample) -> bool:
    """`arguments` is cut off: not valid JSON."""
    calls = [c for c in tool_calls(sample) if isinstance((c.get("function") or {}).get("arguments"), str)]
    for call in calls:
        call["function"]["arguments"] = call["function"]["arguments"][:-1] or "{"
    return bool(calls)


@injector("tools.arguments.off_schema", "chat.completion", expect=("tools.call.arguments.schema",),
          source=OPENAI_CONTRACT)
def tools_arguments_off_schema(sample: Sample) -> bool:
    """`arguments` is JSON but does not match the declared `parameters` (a required key is missing)."""
    calls = [c for c in tool_calls(sample) if isinstance(c.get("function"), dict)]
    if not calls or not any(t.get("function", {}).get("parameters", {}).get("required")
                            for t in sample.request.get("tools") or []):
        return False
    for call in calls:
        call["function"]["arguments"] = json.dumps({"unexpected": True})
    return True


# --- Streaming -----------------------------------------------------------------------------------------------

@injector("stream.id.missing", "stream", expect=("schema.chat.completion.chunk",),
          source="https://github.com/MacPaw/OpenAI/issues/283")
def stream_id_missing(sample: Sample) -> bool:
    """Chunks carry no id."""
    return edit_chunks(sample, lambda chunks: any([delete_key(c, "id") for c in chunks]))


@injector("stream.id.inconsistent", "stream", expect=("stream.id.consistent",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def stream_id_inconsistent(sample: Sample) -> bool:
    """Each chunk carries a different id."""
    def edit(chunks: list[Any]) -> bool:
        with_id = [c for c in chunks if isinstance(c, dict) and isinstance(c.get("id"), str)]
        for number, chunk in enumerate(with_id):
            chunk["id"] = f"{chunk['id']}-{number}"
        return len(with_id) > 1
    return edit_chunks(sample, edit)


@injector("stream.finish_reason.omitted", "stream", expect=("schema.chat.completion.chunk",),
          source="https://github.com/MacPaw/OpenAI/issues/283")
def stream_null_keys_omitted(sample: Sample) -> bool:
    """Non-final chunks leave out `finish_reason` instead of sending null."""
    def edit(chunks: list[Any]) -> bool:
        return any([delete_key(c, "finish_reason") for _, c in chunk_choices(chunks) if c.get("finish_reason")
                    is None and "finish_reason" in c])
    return edit_chunks(sample, edit)


@injector("stream.role.repeated", "stream", expect=("stream.role.first",),
          source="https://github.com/MacPaw/OpenAI/issues/283")
def stream_role_repeated(sample: Sample) -> bool:
    """`role: "assistant"` is repeated in every delta."""
    def edit(chunks: list[Any]) -> bool:
        deltas = [c["delta"] for _, c in chunk_choices(chunks) if isinstance(c.get("delta"), dict)]
        for delta in deltas:
            delta["role"] = "assistant"
        return len(deltas) > 1
    return edit_chunks(sample, edit)


@injector("stream.role.missing", "stream", expect=("stream.role.first",), source=OPENAI_CONTRACT)
def stream_role_missing(sample: Sample) -> bool:
    """No delta says which role is speaking."""
    return edit_chunks(sample, lambda chunks: any(
        [delete_key(c.get("delta"), "role") for _, c in chunk_choices(chunks)]))


@injector("stream.done.missing", "stream", expect=("stream.done",),
          source="https://github.com/MacPaw/OpenAI/issues/283")
def stream_done_missing(sample: Sample) -> bool:
    """The stream ends without `data: [DONE]`."""
    if not sample.done or not sample.events:
        return False
    sample.done = False
    return True


@injector("stream.event.not_json", "stream", expect=("stream.events.json",), source=OPENAI_CONTRACT)
def stream_event_not_json(sample: Sample) -> bool:
    """One event's data is not JSON (a cut or garbled event)."""
    if not sample.events:
        return False
    middle = len(sample.events) // 2
    sample.events[middle] = sample.events[middle][: max(1, len(sample.events[middle]) // 2)]
    return True


@injector("stream.finish_reason.missing", "stream", expect=("stream.finish_reason.once",), source=OPENAI_CONTRACT)
def stream_finish_missing(sample: Sample) -> bool:
    """No chunk ever says why the choice finished."""
    def edit(chunks: list[Any]) -> bool:
        finished = [c for _, c in chunk_choices(chunks) if c.get("finish_reason")]
        for choice in finished:
            choice["finish_reason"] = None
        return bool(finished)
    return edit_chunks(sample, edit)


@injector("stream.finish_reason.stop", "stream", expect=("tools.finish_reason",),
          source="https://github.com/BerriAI/litellm/issues/10485")
def stream_finish_stop(sample: Sample) -> bool:
    """A streamed tool call ends with `finish_reason: "stop"` (under tool_choice auto)."""
    if forced(sample.request):
        sample.request = {**sample.request, "tool_choice": "auto"}  # the same stream, as an answer to "auto"

    def edit(chunks: list[Any]) -> bool:
        if not any(True for _ in tool_deltas(chunks)):
            return False
        finished = [c for _, c in chunk_choices(chunks) if c.get("finish_reason") == "tool_calls"]
        for choice in finished:
            choice["finish_reason"] = "stop"
        return bool(finished)
    return edit_chunks(sample, edit)


@injector("stream.tool_calls.index_missing", "stream", expect=("stream.tool_calls.index",),
          source="https://github.com/openai/openai-python/issues/2806")
def stream_tool_index_missing(sample: Sample) -> bool:
    """Tool-call deltas carry no `index`."""
    return edit_chunks(sample, lambda chunks: any([delete_key(d, "index") for d in tool_deltas(chunks)]))


@injector("stream.tool_calls.parallel_share_index", "stream",
          expect=("stream.tool_calls.first", "tools.call.arguments.json"),
          source="https://github.com/noho/dayu-agent/issues/45")
def stream_parallel_share_index(sample: Sample) -> bool:
    """A second parallel call arrives whole in its own chunk, also claiming index 0."""
    def edit(chunks: list[Any]) -> bool:
        holder = next((n for n, c in chunk_choices(chunks) if (c.get("delta") or {}).get("tool_calls")), None)
        if holder is None:
            return False
        extra = json.loads(json.dumps(chunks[holder]))
        for choice in extra["choices"]:
            choice["delta"] = {"tool_calls": [{"index": 0, "id": "call_second", "type": "function", "function": {
                "name": "get_time", "arguments": '{"location": "Tokyo"}'}}]}
            choice["finish_reason"] = None
        chunks.insert(holder + 1, extra)
        return True
    return edit_chunks(sample, edit)


@injector("stream.usage.missing", "stream", expect=("stream.usage.final_chunk",),
          source="https://github.com/envoyproxy/ai-gateway/issues/1503")
def stream_usage_missing(sample: Sample) -> bool:
    """`stream_options.include_usage` is ignored: no final usage chunk."""
    if not (sample.request.get("stream_options") or {}).get("include_usage"):
        return False
    def edit(chunks: list[Any]) -> bool:
        carriers = [c for c in chunks if isinstance(c, dict) and c.get("usage")]
        for chunk in carriers:
            if chunk.get("choices"):
                chunk["usage"] = None
            else:
                chunks.remove(chunk)
        return bool(carriers)
    return edit_chunks(sample, edit)


@injector("stream.usage.total_mismatch", "stream", expect=("stream.usage.total",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def stream_usage_total(sample: Sample) -> bool:
    """Streamed usage does not add up."""
    def edit(chunks: list[Any]) -> bool:
        usage = [c["usage"] for c in chunks if isinstance(c, dict) and isinstance(c.get("usage"), dict)
                 and isinstance(c["usage"].get("total_tokens"), int)]
        for item in usage:
            item["total_tokens"] += 286
        return bool(usage)
    return edit_chunks(sample, edit)


# --- Embeddings ----------------------------------------------------------------------------------------------

def data_items(sample: Sample) -> list[dict[str, Any]]:
    body = sample.body
    return [d for d in body.get("data") or [] if isinstance(d, dict)] if isinstance(body, dict) else []


@injector("embeddings.index.missing", "embeddings", expect=("schema.embeddings",),
          source="https://github.com/TuGraph-family/chat2graph/issues/203")
def embeddings_index_missing(sample: Sample) -> bool:
    """Embedding objects carry no `index`."""
    return any([delete_key(d, "index") for d in data_items(sample)])


@injector("embeddings.usage.missing", "embeddings", expect=("schema.embeddings",),
          source="https://github.com/TuGraph-family/chat2graph/issues/203")
def embeddings_usage_missing(sample: Sample) -> bool:
    """The response has no `usage`."""
    return delete_key(sample.body, "usage")


@injector("embeddings.model.missing", "embeddings", expect=("schema.embeddings",),
          source="https://github.com/TuGraph-family/chat2graph/issues/203")
def embeddings_model_missing(sample: Sample) -> bool:
    """The response has no `model`."""
    return delete_key(sample.body, "model")


@injector("embeddings.index.order", "embeddings", expect=("embeddings.data.index",), source=OPENAI_CONTRACT)
def embeddings_index_order(sample: Sample) -> bool:
    """Vectors of a batch come back in another order than the inputs."""
    items = data_items(sample)
    if len(items) < 2 or not all(isinstance(d.get("index"), int) for d in items):
        return False
    for position, item in enumerate(items):
        item["index"] = len(items) - 1 - position
    return True


@injector("embeddings.count.short", "embeddings", expect=("embeddings.data.count",), source=OPENAI_CONTRACT)
def embeddings_count_short(sample: Sample) -> bool:
    """A batch gets fewer vectors than inputs."""
    if len(data_items(sample)) < 2:
        return False
    sample.body["data"].pop()
    return True


@injector("embeddings.dimensions.ignored", "embeddings", expect=("embeddings.dimensions",),
          source="https://github.com/BerriAI/litellm/issues/17150")
def embeddings_dimensions_ignored(sample: Sample) -> bool:
    """`dimensions` is ignored: vectors keep their full length."""
    wanted = sample.request.get("dimensions")
    items = [d for d in data_items(sample) if isinstance(d.get("embedding"), list)]
    if not isinstance(wanted, int) or not items or any(len(d["embedding"]) != wanted for d in items):
        return False
    for item in items:
        item["embedding"] = item["embedding"] * 2
    return True


@injector("embeddings.base64.ignored", "embeddings", expect=("embeddings.encoding_format.honoured",),
          source="https://github.com/BerriAI/litellm/issues/17150")
def embeddings_base64_ignored(sample: Sample) -> bool:
    """`encoding_format: "base64"` is ignored: vectors come back as number arrays."""
    items = [d for d in data_items(sample) if isinstance(d.get("embedding"), str)]
    if sample.request.get("encoding_format") != "base64" or not items:
        return False
    for item in items:
        raw = base64.b64decode(item["embedding"])
        item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return True


@injector("embeddings.base64.garbled", "embeddings", expect=("embeddings.base64.decode",), source=OPENAI_CONTRACT)
def embeddings_base64_garbled(sample: Sample) -> bool:
    """A base64 vector does not decode to whole float32 values."""
    items = [d for d in data_items(sample) if isinstance(d.get("embedding"), str)]
    for item in items:
        item["embedding"] = base64.b64encode(base64.b64decode(item["embedding"])[:-1]).decode()
    return bool(items)


# --- Errors --------------------------------------------------------------------------------------------------

@injector("error.google_rpc_array", "error", expect=("schema.error",),
          source="https://github.com/FuzzAnything/PromptFuzz/issues/42")
def error_google_array(sample: Sample) -> bool:
    """The error body is a JSON array of Google RPC errors, not OpenAI's error object."""
    if sample.status < 400:
        return False
    sample.body = [{"error": {"code": sample.status, "message": "Invalid JSON payload received.",
                              "status": "INVALID_ARGUMENT"}}]
    return True


@injector("error.empty_body", "error", expect=("schema.error",),
          source="https://github.com/langchain-ai/openwiki/issues/29")
def error_empty_body(sample: Sample) -> bool:
    """The error comes with an empty body."""
    if sample.status < 400 or sample.body is NOT_JSON:
        return False
    sample.body = NOT_JSON
    return True


@injector("error.type.missing", "error", expect=("schema.error",), source=OPENAI_CONTRACT)
def error_type_missing(sample: Sample) -> bool:
    """The error object has no `type`."""
    error = sample.body.get("error") if isinstance(sample.body, dict) else None
    return delete_key(error, "type")


@injector("error.status.not_401", "error", expect=("errors.status",), source=OPENAI_CONTRACT)
def error_status_400(sample: Sample) -> bool:
    """A bad key is answered 400 instead of 401."""
    if sample.case != "errors.bad_key" or sample.status not in (401, 403):
        return False
    sample.status = 400
    return True


# --- HTTP ----------------------------------------------------------------------------------------------------

@injector("http.content_type.wrong", "chat.completion", "stream", "embeddings", "error",
          expect=("http.content_type",), source="https://github.com/MacPaw/OpenAI/issues/283")
def content_type_wrong(sample: Sample) -> bool:
    """The body is served as `text/plain`."""
    if sample.content_type.startswith("text/plain"):
        return False
    sample.content_type = "text/plain"
    return True


# --- Second round: deviations reported of other compatible servers ------------------------------------------------

@injector("stream.tool_calls.identity_repeated", "stream", expect=("stream.tool_calls.first",),
          source="https://github.com/abetlen/llama-cpp-python/blob/main/llama_cpp/llama_chat_format.py")
def stream_identity_repeated(sample: Sample) -> bool:
    """Every tool-call delta repeats the call's `id`, `type` and `function.name`."""
    def edit(chunks: list[Any]) -> bool:
        first: dict[Any, dict[str, Any]] = {}
        changed = False
        for call in tool_deltas(chunks):
            index = call.get("index")
            if index not in first:
                first[index] = call
                continue
            origin = first[index]
            if origin.get("id") and call.get("id") != origin["id"]:
                call["id"], call["type"] = origin["id"], origin.get("type", "function")
                call.setdefault("function", {})["name"] = (origin.get("function") or {}).get("name")
                changed = True
        return changed
    return edit_chunks(sample, edit)


@injector("tools.legacy_function_call", "chat.completion", expect=("tools.legacy_function_call",),
          source=OPENAI_CONTRACT)
def legacy_function_call(sample: Sample) -> bool:
    """A deprecated `function_call` (here with an empty name) comes beside `tool_calls`."""
    changed = False
    for message in messages(sample):
        if message.get("tool_calls"):
            message["function_call"] = {"name": "", "arguments": "{}"}
            changed = True
    return changed


@injector("stream.legacy_function_call", "stream", expect=("tools.legacy_function_call",),
          source="https://github.com/abetlen/llama-cpp-python/blob/main/llama_cpp/llama_chat_format.py")
def stream_legacy_function_call(sample: Sample) -> bool:
    """Streamed deltas carry a legacy `function_call` beside `tool_calls`."""
    def edit(chunks: list[Any]) -> bool:
        changed = False
        for _, choice in chunk_choices(chunks):
            delta = choice.get("delta")
            if isinstance(delta, dict) and delta.get("tool_calls"):
                call = delta["tool_calls"][0] if isinstance(delta["tool_calls"][0], dict) else {}
                delta["function_call"] = {"name": (call.get("function") or {}).get("name") or "",
                                          "arguments": (call.get("function") or {}).get("arguments") or ""}
                changed = True
        return changed
    return edit_chunks(sample, edit)


@injector("tools.call.undeclared", "chat.completion", expect=("tools.call.name",), source=OPENAI_CONTRACT)
def call_undeclared(sample: Sample) -> bool:
    """A tool call names a function the request never declared."""
    calls = tool_calls(sample)
    for call in calls:
        if isinstance(call.get("function"), dict):
            call["function"]["name"] = "undeclared_function"
    return bool(calls)


@injector("chat.created.milliseconds", "chat.completion", expect=("chat.created.seconds",),
          source=OPENAI_CONTRACT)
def created_milliseconds(sample: Sample) -> bool:
    """`created` is a Unix time in milliseconds."""
    body = sample.body
    if not isinstance(body, dict) or not isinstance(body.get("created"), int):
        return False
    body["created"] *= 1000
    return True


@injector("stream.id.empty", "stream", expect=("chat.id.present",), source=OPENAI_CONTRACT)
def stream_id_empty(sample: Sample) -> bool:
    """Every chunk has `id: ""`."""
    def edit(chunks: list[Any]) -> bool:
        touched = [c for c in chunks if isinstance(c, dict) and "id" in c]
        for chunk in touched:
            chunk["id"] = ""
        return bool(touched)
    return edit_chunks(sample, edit)


@injector("stream.fingerprint.changes", "stream", expect=("stream.system_fingerprint.consistent",),
          source=OPENAI_CONTRACT)
def stream_fingerprint_changes(sample: Sample) -> bool:
    """`system_fingerprint` changes from chunk to chunk."""
    def edit(chunks: list[Any]) -> bool:
        touched = [c for c in chunks if isinstance(c, dict)]
        for number, chunk in enumerate(touched):
            chunk["system_fingerprint"] = f"fp_{number}"
        return len(touched) > 1
    return edit_chunks(sample, edit)


@injector("stream.usage.every_chunk", "stream", expect=("stream.usage.placement",),
          source=OPENAI_CONTRACT)
def stream_usage_every_chunk(sample: Sample) -> bool:
    """Every content chunk carries a usage object."""
    def edit(chunks: list[Any]) -> bool:
        touched = [c for c in chunks if isinstance(c, dict) and c.get("choices") and not c.get("usage")]
        for chunk in touched:  # a usage the server sent stays as it was: only the missing ones are added
            chunk["usage"] = {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}
        return bool(touched)
    return edit_chunks(sample, edit)


@injector("stream.choices.empty_midway", "stream", expect=("stream.choices.empty",), source=OPENAI_CONTRACT)
def stream_empty_choices_midway(sample: Sample) -> bool:
    """A chunk with `choices: []` and no usage comes in the middle of the stream."""
    def edit(chunks: list[Any]) -> bool:
        if len(chunks) < 2 or not isinstance(chunks[0], dict):
            return False
        chunks.insert(1, {**chunks[0], "choices": [], "usage": None})
        return True
    return edit_chunks(sample, edit)


@injector("embeddings.usage.total_mismatch", "embeddings", expect=("embeddings.usage.total",),
          source=OPENAI_CONTRACT)
def embeddings_usage_total(sample: Sample) -> bool:
    """Embeddings usage says `total_tokens` != `prompt_tokens`."""
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(usage, dict) or not isinstance(usage.get("prompt_tokens"), int):
        return False
    usage["total_tokens"] = usage["prompt_tokens"] + 7
    return True


@injector("error.code.status_string", "error", expect=("errors.code",),
          source=OPENAI_CONTRACT)
def error_code_status_string(sample: Sample) -> bool:
    """`error.code` is the HTTP status as a string ("400")."""
    error = sample.body.get("error") if isinstance(sample.body, dict) else None
    if not isinstance(error, dict):
        return False
    error["code"] = str(sample.status)
    return True


# --- Meaning: relations the spec states in words (checks/relations.py) ------------------------------------------

@injector("usage.reasoning_exceeds_completion", "chat.completion", expect=("usage.parts",),
          source=OPENAI_CONTRACT)
def usage_reasoning_exceeds(sample: Sample) -> bool:
    """`completion_tokens_details.reasoning_tokens` is larger than the `completion_tokens` it is part of."""
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(usage, dict) or not isinstance(usage.get("completion_tokens"), int):
        return False
    usage["completion_tokens_details"] = {"reasoning_tokens": usage["completion_tokens"] + 100}
    return True


@injector("stream.usage.cached_exceeds_prompt", "stream", expect=("usage.parts",), source=OPENAI_CONTRACT)
def stream_cached_exceeds(sample: Sample) -> bool:
    """The streamed usage says more prompt tokens were cached than the prompt had."""
    def edit(chunks: list[Any]) -> bool:
        usage = [c["usage"] for c in chunks if isinstance(c, dict) and isinstance(c.get("usage"), dict)
                 and isinstance(c["usage"].get("prompt_tokens"), int)]
        for item in usage:
            item["prompt_tokens_details"] = {"cached_tokens": item["prompt_tokens"] + 1}
        return bool(usage)
    return edit_chunks(sample, edit)


@injector("tools.id.duplicated", "chat.completion", expect=("tools.call.id.unique",), source=OPENAI_CONTRACT)
def tools_id_duplicated(sample: Sample) -> bool:
    """Two tool calls of one message share an id (a second call copied with the first one's id)."""
    for message in messages(sample):
        calls = message.get("tool_calls")
        if isinstance(calls, list) and calls and isinstance(calls[0], dict) and calls[0].get("id"):
            calls.append(json.loads(json.dumps(calls[0])))
            return True
    return False


@injector("chat.finish_reason.length_early", "chat.completion", expect=("chat.finish_reason.length",),
          source=OPENAI_CONTRACT)
def finish_length_early(sample: Sample) -> bool:
    """`finish_reason: "length"` on an answer with fewer completion tokens than the limit asked for."""
    limit = sample.request.get("max_completion_tokens") or sample.request.get("max_tokens")
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(limit, int) or limit < 2 or not isinstance(usage, dict) or not choices(sample):
        return False
    usage["completion_tokens"] = limit - 1
    usage["total_tokens"] = (usage.get("prompt_tokens") or 0) + limit - 1
    for choice in choices(sample):
        choice["finish_reason"] = "length"
    return True


@injector("stream.deltas.cumulative", "stream", expect=("stream.delta.cumulative",),
          source=OPENAI_CONTRACT)
def stream_cumulative(sample: Sample) -> bool:
    """Every content delta repeats the text so far (snapshots instead of deltas), over at least three chunks."""
    def edit(chunks: list[Any]) -> bool:
        carrying = [n for n, chunk in enumerate(chunks) for choice in (chunk.get("choices") or [])[:1]
                    if isinstance(chunk, dict) and isinstance(choice, dict) and isinstance(choice.get("delta"), dict)
                    and isinstance(choice["delta"].get("content"), str) and choice["delta"]["content"]]
        text = "".join(chunks[n]["choices"][0]["delta"]["content"] for n in carrying)
        if len(text) < 3 or not carrying:
            return False
        cuts = [len(text) * k // 3 for k in (1, 2, 3)]
        template = json.dumps(chunks[carrying[0]])
        snapshots = []
        for cut in cuts:
            chunk = json.loads(template)
            chunk["choices"][0]["delta"] = {"content": text[:cut]}
            snapshots.append(chunk)
        chunks[carrying[0]:carrying[-1] + 1] = snapshots
        return True
    return edit_chunks(sample, edit)


@injector("json.nan_in_usage", "chat.completion", expect=("json.strict",),
          source="https://www.rfc-editor.org/rfc/rfc8259#section-6")
def json_nan(sample: Sample) -> bool:
    """A number of the body is NaN: Python writes it, JSON.parse throws on it."""
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(usage, dict):
        return False
    usage["prompt_tokens"] = float("nan")
    return True


@injector("tools.arguments.infinity", "chat.completion", expect=("tools.call.arguments.json",),
          source="https://www.rfc-editor.org/rfc/rfc8259#section-6")
def arguments_infinity(sample: Sample) -> bool:
    """Tool-call arguments hold `Infinity`: valid to Python's json module, an error to JSON.parse."""
    calls = [c for c in tool_calls(sample) if isinstance(c.get("function"), dict)]
    for call in calls:
        call["function"]["arguments"] = '{"location": "Chicago, IL", "limit": Infinity}'
    return bool(calls)


@injector("error.type.class_name", "error", expect=("errors.type",),
          source="https://github.com/vllm-project/vllm/blob/main/vllm/entrypoints/openai/protocol.py")
def error_type_class_name(sample: Sample) -> bool:
    """`error.type` is a class name ("BadRequestError") instead of OpenAI's category."""
    error = sample.body.get("error") if isinstance(sample.body, dict) else None
    if not isinstance(error, dict):
        return False
    error["type"] = "BadRequestError"
    return True


@injector("reasoning.thoughts_in_content", "chat.completion", expect=("reasoning.in_content",),
          source="https://discuss.ai.google.dev/t/how-to-include-thoughts-on-openai-compatibility/87141")
def thoughts_in_content(sample: Sample) -> bool:
    """The model's thoughts come back inside `content`, in a <thought> block before the answer."""
    changed = False
    for message in messages(sample):
        if isinstance(message.get("content"), str) and message["content"]:
            message["content"] = "<thought>The user wants a short answer.</thought>" + message["content"]
            changed = True
    return changed


@injector("reasoning.tokens.unreported", "chat.completion", expect=("reasoning.tokens.reported",),
          source="https://github.com/softwaremill/sttp-ai/issues/338")
def reasoning_tokens_unreported(sample: Sample) -> bool:
    """A reasoning request's usage leaves out `completion_tokens_details.reasoning_tokens` (thinking counted only
    in the total)."""
    effort = sample.request.get("reasoning_effort")
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(effort, str) or effort == "none" or not isinstance(usage, dict):
        return False
    usage.pop("completion_tokens_details", None)
    return True


@injector("images.b64_not_an_image", "images", expect=("images.data",), source=OPENAI_CONTRACT)
def images_not_an_image(sample: Sample) -> bool:
    """`b64_json` decodes to something that is not an image."""
    data = sample.body.get("data") if isinstance(sample.body, dict) else None
    items = [d for d in data or [] if isinstance(d, dict) and d.get("b64_json")]
    for item in items:
        item["b64_json"] = "bm90IGFuIGltYWdl"
    return bool(items)


# --- The Responses API ------------------------------------------------------------------------------------------
RESPONSES_STREAMING = "https://platform.openai.com/docs/api-reference/responses-streaming"


def outputs(sample: Sample) -> list[dict[str, Any]]:
    """The response's output items (a body's; in a stream, each lifecycle event's response is edited elsewhere)."""
    output = sample.body.get("output") if isinstance(sample.body, dict) else None
    return [item for item in output if isinstance(item, dict)] if isinstance(output, list) else []


def terminal_response(chunks: list[Any]) -> dict[str, Any] | None:
    for chunk in reversed(chunks):
        if isinstance(chunk, dict) and chunk.get("type") in ("response.completed", "response.incomplete",
                                                              "response.failed"):
            return chunk["response"] if isinstance(chunk.get("response"), dict) else None
    return None


@injector("responses.usage.total_off", "response", expect=("responses.usage.total",), source=OPENAI_CONTRACT)
def responses_usage_total_off(sample: Sample) -> bool:
    """`usage.total_tokens` is not input_tokens + output_tokens."""
    usage = sample.body.get("usage") if isinstance(sample.body, dict) else None
    if not isinstance(usage, dict) or not isinstance(usage.get("total_tokens"), int):
        return False
    usage["total_tokens"] += 7
    return True


@injector("responses.incomplete.no_details", "response", expect=("responses.status.details",),
          source=OPENAI_CONTRACT)
def responses_incomplete_no_details(sample: Sample) -> bool:
    """The response says it is incomplete and not why."""
    if not isinstance(sample.body, dict) or sample.body.get("status") != "completed":
        return False
    sample.body.update(status="incomplete", incomplete_details=None)
    return True


@injector("responses.output_text.think", "response", expect=("responses.output_text.reasoning",),
          source="https://platform.openai.com/docs/guides/reasoning")
def responses_output_text_think(sample: Sample) -> bool:
    """The message's text opens with the model's reasoning in a <think> block."""
    parts = [p for item in outputs(sample) if item.get("type") == "message" for p in item.get("content") or []
             if isinstance(p, dict) and isinstance(p.get("text"), str)]
    for part in parts:
        part["text"] = "<think>The user wants a short answer.</think>" + part["text"]
    return bool(parts)


@injector("responses.required.no_call", "response", expect=("responses.tool_choice.honoured",),
          source=OPENAI_CONTRACT)
def responses_required_no_call(sample: Sample) -> bool:
    """Under tool_choice required, the response makes no function call."""
    if sample.request.get("tool_choice") != "required" or not isinstance(sample.body, dict):
        return False
    kept = [item for item in outputs(sample) if item.get("type") != "function_call"]
    if len(kept) == len(outputs(sample)):
        return False
    text = {"type": "output_text", "text": "Sunny.", "annotations": [], "logprobs": []}
    sample.body["output"] = [*kept, {"type": "message", "id": "msg_injected", "role": "assistant",
                                     "status": "completed", "content": [text]}]
    return True


@injector("responses.setting.restated_otherwise", "response", expect=("responses.request.restated",),
          source=OPENAI_CONTRACT)
def responses_setting_restated_otherwise(sample: Sample) -> bool:
    """The response states a setting the request gave (tool_choice, max_output_tokens, temperature...) with
    another value than the one given."""
    from conformance.api.responses.checks import RESTATED
    from conformance.model.findings import MISSING, value_at

    for pointer, _ in RESTATED:
        asked, stated = value_at(sample.request, pointer), value_at(sample.body, pointer)
        parent = value_at(sample.body, pointer.rsplit("/", 1)[0])
        if asked in (MISSING, None) or stated is MISSING or not isinstance(parent, dict):
            continue
        key = pointer.rsplit("/", 1)[1]
        if isinstance(asked, bool):
            parent[key] = not asked
        elif isinstance(asked, int | float):
            parent[key] = asked + 1
        elif isinstance(asked, str):
            parent[key] = f"{asked}-other"
        else:
            parent[key] = {"injected": "by the self-test"}
        return True
    return False


@injector("responses.stream.sequence_gap", "responses.stream", expect=("responses.stream.sequence",),
          source=RESPONSES_STREAMING)
def responses_stream_sequence_gap(sample: Sample) -> bool:
    """The events' sequence numbers skip one in the middle."""
    def edit(chunks: list[Any]) -> bool:
        numbered = [c for c in chunks if isinstance(c, dict) and isinstance(c.get("sequence_number"), int)]
        for chunk in numbered[len(numbered) // 2:]:
            chunk["sequence_number"] += 1
        return len(numbered) > 2
    return edit_chunks(sample, edit)


@injector("responses.stream.terminal_missing", "responses.stream", expect=("responses.stream.terminal",),
          source=RESPONSES_STREAMING)
def responses_stream_terminal_missing(sample: Sample) -> bool:
    """The stream ends without its terminal event."""
    def edit(chunks: list[Any]) -> bool:
        if terminal_response(chunks) is None:
            return False
        while chunks and isinstance(chunks[-1], dict) and chunks[-1].get("type") != "response.completed" and \
                chunks[-1].get("type") not in ("response.incomplete", "response.failed"):
            chunks.pop()
        chunks.pop()
        return bool(chunks)
    return edit_chunks(sample, edit)


@injector("responses.stream.done_sentinel", "responses.stream", expect=("responses.stream.done_sentinel",),
          source=RESPONSES_STREAMING)
def responses_stream_done_sentinel(sample: Sample) -> bool:
    """The stream ends with the chat stream's `data: [DONE]`."""
    if sample.done or not sample.events:
        return False
    sample.done = True
    return True


@injector("responses.stream.unnamed", "responses.stream", expect=("responses.stream.event_name",),
          source=RESPONSES_STREAMING)
def responses_stream_unnamed(sample: Sample) -> bool:
    """The events carry no SSE `event:` name."""
    if not sample.names:
        return False
    sample.names = []
    return True


@injector("responses.stream.chat_chunk", "responses.stream", expect=("responses.stream.chat_chunk",),
          source=RESPONSES_STREAMING)
def responses_stream_chat_chunk(sample: Sample) -> bool:
    """A chat completion chunk sits among the Responses events."""
    def edit(chunks: list[Any]) -> bool:
        chunks.insert(len(chunks) // 2, {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1,
                                         "model": "m", "choices": [{"index": 0, "delta": {"content": "x"},
                                                                    "finish_reason": None}]})
        return True
    return edit_chunks(sample, edit)


@injector("responses.stream.done_text_differs", "responses.stream", expect=("responses.stream.text",),
          source=RESPONSES_STREAMING)
def responses_stream_done_text_differs(sample: Sample) -> bool:
    """The `output_text.done` text is not what the deltas added up to."""
    def edit(chunks: list[Any]) -> bool:
        done = [c for c in chunks if isinstance(c, dict) and c.get("type") == "response.output_text.done"
                and isinstance(c.get("text"), str)]
        for chunk in done:
            chunk["text"] += " (edited)"
        return bool(done) and any(isinstance(c, dict) and c.get("type") == "response.output_text.delta"
                                  for c in chunks)
    return edit_chunks(sample, edit)


@injector("responses.stream.item_id_differs", "responses.stream", expect=("responses.stream.items",),
          source=RESPONSES_STREAMING)
def responses_stream_item_id_differs(sample: Sample) -> bool:
    """A delta names another item id than the item added at its output index."""
    def edit(chunks: list[Any]) -> bool:
        deltas = [c for c in chunks if isinstance(c, dict) and str(c.get("type", "")).endswith(".delta")
                  and isinstance(c.get("item_id"), str)]
        for chunk in deltas[:1]:
            chunk["item_id"] += "_other"
        return bool(deltas)
    return edit_chunks(sample, edit)


@injector("responses.stream.final_usage_off", "responses.stream", expect=("responses.usage.total",),
          source=OPENAI_CONTRACT)
def responses_stream_final_usage_off(sample: Sample) -> bool:
    """The terminal response's `usage.total_tokens` is not input_tokens + output_tokens."""
    def edit(chunks: list[Any]) -> bool:
        response = terminal_response(chunks)
        usage = response.get("usage") if response else None
        if not isinstance(usage, dict) or not isinstance(usage.get("total_tokens"), int):
            return False
        usage["total_tokens"] += 7
        return True
    return edit_chunks(sample, edit)
