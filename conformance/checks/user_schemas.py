"""Validators for schemas that arrive in a request (tool parameters, a response_format's json_schema).

Compiled once per distinct schema: a run sends the same few schemas many times.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


def validator_for(schema: Any) -> Draft202012Validator | None:
    """A validator for ``schema``, or None when it is not a usable JSON Schema (then there is nothing to judge)."""
    return _compiled(json.dumps(schema, sort_keys=True)) if isinstance(schema, dict) else None


@lru_cache(maxsize=64)
def _compiled(schema_json: str) -> Draft202012Validator | None:
    try:
        schema = json.loads(schema_json)
        Draft202012Validator.check_schema(schema)
    except (ValueError, SchemaError):
        return None
    return Draft202012Validator(schema)
