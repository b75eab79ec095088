"""The Python SDK's structured-output helper, ``client.chat.completions.parse``, as its documentation shows it: with a
Pydantic model in ``response_format``, from which the SDK builds the strict JSON schema it sends and into which it
parses the answer.

The catalogue's ``json_schema`` cases carry a plain schema; for the flat object schemas they use, the equivalent
model is built here, so that the Python SDK surface sends what a user of ``parse`` sends and reports what
``message.parsed`` gives them. Anything richer than a flat object of scalars stays on ``create``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

_SCALARS: dict[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}


def parse_model(body: dict[str, Any]) -> type[BaseModel] | None:
    """The Pydantic model equivalent to the request's json_schema response format, or None."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema") or {}
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict) or schema.get("type") != "object" or not spec.get("strict"):
        return None
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    if set(properties) != required or schema.get("additionalProperties") is not False:
        return None  # strict mode wants every property required and no others: the SDK's models are built so
    fields: dict[str, Any] = {}
    for name, sub in properties.items():
        kind = sub.get("type") if isinstance(sub, dict) else None
        if kind not in _SCALARS or set(sub) - {"type", "description"}:
            return None
        fields[name] = (_SCALARS[kind], ...)
    name = str(spec.get("name") or "Answer")
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
