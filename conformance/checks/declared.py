"""Checks whose findings come from outside the registry's loop: the schemas, and what the SDKs made of an exchange.

Declared here so that every check id a report can hold is registered once, with its severity, meaning and source.
"""

from __future__ import annotations

from conformance.api import ANSWERS
from conformance.checks.registry import declare
from conformance.model.findings import Severity
from conformance.schemas import ERROR_ANSWER

for _answer in (ERROR_ANSWER, *ANSWERS.values()):  # every answer kind an endpoint family declares
    declare(f"schema.{_answer.kind}", f"{_answer.what[0].upper()}{_answer.what[1:]} validates against the project's "
                                      "OpenAI schema (required fields, types, enums, nullability)")

declare("sdk.raised", "The surface's SDK parses a 2xx answer without raising", severity=Severity.FAILURE)
declare("sdk.stream.accumulate", "The Python SDK's stream accumulator folds the stream into a completion",
        severity=Severity.FAILURE)
declare("sdk.assembled", "What the SDK assembles (text, finish reason, each tool call's id, name and arguments) is "
                         "what the exchange says", severity=Severity.FAILURE,
        source="OpenAI API reference, the chat completion chunk object: tool-call `id`, `type` and `function.name` "
               "come on a call's first delta only, `arguments` are concatenated")

# Conversations (flow cases): the next request is built from the assistant message as each client returned it.
_FLOW_SOURCE = ("OpenAI API reference, Chat Completions: the assistant message of a request (role, content, "
                "refusal, tool_calls with id, type, function name and arguments); OpenAI guide, Function calling "
                "(append the model's message and the tool's result, then call the model again)")
declare("flow.echo.extension_required", "The next turn is accepted with the assistant message echoed from "
                                        "OpenAI's fields alone: a server that needs a field of its own back "
                                        "breaks every client that rebuilds messages from OpenAI's fields",
        severity=Severity.FAILURE, source=_FLOW_SOURCE + "; Gemini's thought_signature reports in "
                                                         "shared/reference/gemini-evidence/DEVIATIONS.md")
declare("flow.echo.client_reading", "The next turn is accepted with the client's own reading of the previous "
                                    "answer echoed back (not only with the exchange's conformant reading)",
        severity=Severity.FAILURE, source=_FLOW_SOURCE)
declare("flow.step.refused", "A follow-up turn of a conversation (the model's own message and the tool results) "
                             "is accepted", severity=Severity.FAILURE, source=_FLOW_SOURCE)

declare("flow.step.id", "The id a conversation's next step follows (a stored response read back, cancelled or "
                       "deleted) is an id: a string that travels as one path segment, not a path of its own "
                       "(`resp_1/cancel`, `..`) nor an object", severity=Severity.FAILURE,
        source="OpenAI API reference, Responses: `GET /v1/responses/{response_id}`, `DELETE ...`, `POST "
               ".../{response_id}/cancel`; the response object's `id` (string): the unique identifier of the response")

declare("docs.rejected", "A request the target's own documentation says it supports is accepted (the second oracle: "
                         "the layer's documentation, beside OpenAI's contract)", severity=Severity.FAILURE,
        source="the target's documentation page named in the case (e.g. ai.google.dev/gemini-api/docs/openai)")
