"""Checks whose findings come from outside the registry's loop: the schemas, and what the SDKs made of an exchange.

Declared here so that every check id a report can hold is registered once, with its severity, meaning and source.
"""

from __future__ import annotations

from conformance.checks.registry import declare
from conformance.findings import Severity

for _kind, _what in (("chat.completion", "a chat completion"), ("chat.completion.chunk", "every stream chunk"),
                     ("embeddings", "an embeddings list"), ("embeddings.base64", "an embeddings list (base64)"),
                     ("error", "an error body"), ("models", "a model list"), ("model", "a model object")):
    declare(f"schema.{_kind}", f"{_what[0].upper()}{_what[1:]} validates against the project's OpenAI schema "
                               "(required fields, types, enums, nullability)")

declare("sdk.raised", "The surface's SDK parses a 2xx answer without raising", severity=Severity.FAILURE)
declare("sdk.stream.accumulate", "The Python SDK's stream accumulator folds the stream into a completion",
        severity=Severity.FAILURE)
declare("sdk.assembled", "What the SDK assembles (text, finish reason, each tool call's id, name and arguments) is "
                         "what the exchange says", severity=Severity.FAILURE,
        source="OpenAI API reference, the chat completion chunk object: tool-call `id`, `type` and `function.name` "
               "come on a call's first delta only, `arguments` are concatenated")
