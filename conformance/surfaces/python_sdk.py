"""The OpenAI Python SDK, used the way the documentation shows it.

Besides the raw exchange, it reports what the SDK made of the answer: a parse error, or a stream its own
accumulator (``ChatCompletionStreamState``) cannot fold, is a finding on this surface. A strict json_schema case
goes through the structured-output helper ``chat.completions.parse`` with the equivalent Pydantic model, as its
documentation shows (see surfaces/structured.py): an answer the helper cannot parse is the same finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from openai.lib.streaming.chat import ChatCompletionStreamState

from conformance.api.chat.reading import python_choices
from conformance.catalogue.model import Case
from conformance.model.findings import Finding, Severity
from conformance.surfaces.base import RunEnv, SurfaceOutcome, classify_exception
from conformance.surfaces.structured import parse_model
from conformance.wire.sse import parse_stream
from conformance.wire.transport import FailureKind

# The SDK always sends a bearer token; with another auth style it carries this placeholder instead of the key.
NO_BEARER = "key-sent-another-way"


class PythonSdkSurface:
    name = "python-sdk"
    label = f"Python SDK (openai {openai.__version__})"

    def unavailable(self) -> str | None:
        return None

    def run(self, case: Case, env: RunEnv) -> SurfaceOutcome:
        capture = env.capture(case)
        outcome = SurfaceOutcome(exchanges=capture.exchanges)
        http = env.client(capture, "httpx2", follow_redirects=True,  # the SDK's own default
                          strip_auth=case.no_key)
        bearer = env.profile.auth == "bearer"
        client = openai.OpenAI(base_url=env.profile.server_url(case.operation.server),
                               api_key=env.key_for(case) if bearer and not case.no_key else NO_BEARER,
                               http_client=http, max_retries=0, timeout=env.timeout_s,
                               default_headers=env.auth_headers(case) if not bearer else None,
                               default_query=env.auth_query(case) or None)
        body = sdk_arguments(case.request_body(env.profile))
        operation = case.operation
        for required in operation.sdk_required:
            body.setdefault(required, openai.omit)  # a request that leaves it out on purpose: the SDK drops omit
        try:
            CALLS[operation.id](client, case.path_params_for(env.profile), body, outcome)
        except openai.APIStatusError as exc:
            outcome.sdk = {"raised": type(exc).__name__, "status": exc.status_code,
                           "body_type": type(exc.body).__name__}
        except Exception as exc:
            capture.note_error(exc)
            _sdk_failure(exc, outcome, env)
        finally:
            http.close()
        return outcome


Params = dict[str, str]  # an operation's path parameters
Body = dict[str, Any]  # the SDK method's keyword arguments


# What the SDK returned, as the report records it: the class it built and what an application reads of it.
def _listed(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    listed = client.models.list()
    outcome.sdk = {"returned": type(listed).__name__, "models": len(listed.data or [])}


def _retrieved(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    model = client.models.retrieve(params["model"])
    outcome.sdk = {"returned": type(model).__name__, "id": model.id}


def _embedded(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    result = client.embeddings.create(**body)
    outcome.sdk = {"returned": type(result).__name__, "vectors": len(result.data or [])}


def _generated(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    images = client.images.generate(**body)
    outcome.sdk = {"returned": type(images).__name__, "images": len(images.data or [])}


def _made(made: Any) -> dict[str, Any]:
    return {"returned": type(made).__name__, "id": made.id, **({"status": made.status}
                                                                if hasattr(made, "status") else {})}


def _uploaded(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    upload = body["file"]
    outcome.sdk = _made(client.files.create(file=(upload["filename"], upload["content"].encode(),
                                                  "application/jsonl"), purpose=body["purpose"]))


def _file_content(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    text = client.files.content(params["file_id"]).text
    outcome.sdk = {"returned": "HttpxBinaryResponseContent", "lines": len(text.splitlines())}


def _file_deleted(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    made = client.files.delete(params["file_id"])
    outcome.sdk = {"returned": type(made).__name__, "deleted": made.deleted}


def _batch_created(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    outcome.sdk = _made(client.batches.create(**body))


def _batch_retrieved(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    outcome.sdk = _made(client.batches.retrieve(params["batch_id"]))


def _batch_cancelled(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    outcome.sdk = _made(client.batches.cancel(params["batch_id"]))


def _chat(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    if body.get("stream") is True:
        _run_stream(client, body, outcome)
    elif (model := parse_model(body)) is not None:
        parsed = client.chat.completions.parse(**{**body, "response_format": model})
        outcome.sdk = {"returned": type(parsed).__name__, "helper": "chat.completions.parse",
                       "parsed": [c.message.parsed.model_dump() if c.message.parsed is not None else None
                                  for c in parsed.choices or []]}
        _oracle(outcome, parsed)
        outcome.message = _message_of(parsed)
    else:
        result = client.chat.completions.create(**body)
        outcome.sdk = {"returned": type(result).__name__, "choices": len(result.choices or [])}
        _oracle(outcome, result)
        outcome.message = _message_of(result)


def _dumped(model: Any) -> dict[str, Any] | None:
    """An SDK model as plain data, its extra fields kept (the SDK's models keep what they do not know)."""
    dumped = model.model_dump(mode="json") if hasattr(model, "model_dump") else None
    return dumped if isinstance(dumped, dict) else None


def _response_read(outcome: SurfaceOutcome, response: Any, returned: str, **more: Any) -> None:
    outcome.sdk = {"returned": returned, "status": getattr(response, "status", None),
                   "output_text": (getattr(response, "output_text", "") or "")[:200], **more}
    outcome.message = _dumped(response)


def _response_created(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    if body.get("stream") is not True:
        _response_read(outcome, client.responses.create(**body), "Response")
        return
    # The SDK's stream helper, as its documentation shows it: it folds the events into the final response, and
    # raises where they do not fold.
    events = 0
    with client.responses.stream(**{k: v for k, v in body.items() if k != "stream"}) as stream:
        for _ in stream:
            events += 1
        final = stream.get_final_response()
    _response_read(outcome, final, "ResponseStream", events=events)


def _response_retrieved(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    _response_read(outcome, client.responses.retrieve(params["response_id"]), "Response")


def _response_cancelled(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    _response_read(outcome, client.responses.cancel(params["response_id"]), "Response")


def _response_deleted(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    client.responses.delete(params["response_id"])  # the SDK returns None: a 2xx is all it reads
    outcome.sdk = {"returned": "None"}
    outcome.message = {"id": params["response_id"], "deleted": True}


def _input_items(client: openai.OpenAI, params: Params, body: Body, outcome: SurfaceOutcome) -> None:
    page = client.responses.input_items.list(params["response_id"])
    items = [_dumped(item) for item in page.data or []]
    outcome.sdk = {"returned": type(page).__name__, "items": len(items)}
    outcome.message = {"object": "list", "data": items}


# Each operation of conformance.api, as the SDK's documentation calls it: the one table this surface keeps.
CALLS: dict[str, Callable[[openai.OpenAI, Params, Body, SurfaceOutcome], None]] = {
    "chat.create": _chat,
    "embeddings.create": _embedded,
    "models.list": _listed,
    "models.retrieve": _retrieved,
    "images.generate": _generated,
    "files.create": _uploaded,
    "files.content": _file_content,
    "files.delete": _file_deleted,
    "batches.create": _batch_created,
    "batches.retrieve": _batch_retrieved,
    "batches.cancel": _batch_cancelled,
    "responses.create": _response_created,
    "responses.retrieve": _response_retrieved,
    "responses.delete": _response_deleted,
    "responses.input_items": _input_items,
    "responses.cancel": _response_cancelled,
}


# Arguments of the SDK's methods that are options of the call, not fields of the body: a body field of the same
# name (Gemini documents a body field "extra_body" for its thinking_config) must go inside the SDK's extra_body,
# as the layer's Python example writes it (extra_body={"extra_body": {...}}), or the SDK would take it as its own.
SDK_CALL_OPTIONS = ("extra_body", "extra_headers", "extra_query", "timeout")


def sdk_arguments(body: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments that make the SDK send ``body`` as it is on the wire."""
    clashing = {k: body[k] for k in SDK_CALL_OPTIONS if k in body}
    if not clashing:
        return body
    return {**{k: v for k, v in body.items() if k not in clashing}, "extra_body": clashing}


def _run_stream(client: openai.OpenAI, body: dict[str, Any], outcome: SurfaceOutcome) -> None:
    chunks = list(client.chat.completions.create(**body))
    outcome.sdk = {"returned": "Stream", "chunks": len(chunks)}
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(input_tools=body.get("tools") or openai.omit)
    try:
        for chunk in chunks:
            state.handle_chunk(chunk)
        try:
            final: Any = state.get_final_completion()
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError):
            # The helper refuses to *parse* a cut answer by design; the accumulated completion is still there.
            final = state.current_completion_snapshot
    except Exception as exc:
        outcome.findings.append(Finding(
            "sdk.stream.accumulate", "", f"the SDK's stream accumulator raised {type(exc).__name__}: "
            f"{str(exc)[:200]}", Severity.FAILURE, expected="the stream folds into a completion",
            seen=type(exc).__name__))
        return
    _oracle(outcome, final)
    outcome.message = _message_of(final)


def _message_of(completion: Any) -> dict[str, Any] | None:
    """The first choice's message object as the SDK built it, as plain data (its extra fields included: the SDK's
    models keep what they do not know)."""
    choices = getattr(completion, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    if message is None:
        return None
    dumped = message.model_dump(mode="json", exclude={"parsed"}) if hasattr(message, "model_dump") else None
    return dumped if isinstance(dumped, dict) else None


def _oracle(outcome: SurfaceOutcome, completion: Any) -> None:
    """What the SDK read, for the runner's one comparison with the exchange (oracle.sdk_findings)."""
    outcome.sdk_choices, outcome.sdk_label = python_choices(completion), "the OpenAI Python SDK"


def _sdk_rejects_legal_sse(exc: BaseException, exchange: Any) -> bool:
    import json

    if not exchange.content_type.startswith("text/event-stream"):
        return False
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    parsed = parse_stream(exchange.response_body)
    return parsed.dataless_blocks > 0 and not parsed.problems and any(
        isinstance(item, json.JSONDecodeError) for item in chain)


def _sdk_failure(exc: Exception, outcome: SurfaceOutcome, env: RunEnv) -> None:
    kind, message = classify_exception(exc)
    exchange = outcome.exchange
    answered = exchange is not None and exchange.status is not None and exchange.error is None
    if kind is FailureKind.SURFACE and answered and _sdk_rejects_legal_sse(exc, exchange):
        # A lone `retry:`/`id:` block is legal event-stream framing that this SDK version cannot read: its own
        # limitation, not the server's finding (the raw stream is still judged in full).
        outcome.sdk = {"raised": type(exc).__name__, "note": "the SDK rejects a legal SSE block without data"}
        return
    if kind is FailureKind.SURFACE and answered and exchange is not None and 200 <= (exchange.status or 0) < 300:
        # The server answered 2xx and the SDK could not use it: that is the server's finding on this surface.
        outcome.findings.append(Finding(
            "sdk.raised", "", env.scrubber.text(f"the OpenAI Python SDK raised on the response: {message}"),
            Severity.FAILURE, expected="a parsed response", seen=type(exc).__name__))
        outcome.sdk = {"raised": type(exc).__name__}
        return
    outcome.error_kind, outcome.error = kind, env.scrubber.text(message)
