"""JSON as a strict client reads it (RFC 8259): what Python's lenient json module accepts and JavaScript's JSON.parse
(and so the Node.js SDK, and every browser) does not."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from conformance.model.findings import escape_token


def strict_problems(value: Any, base: str = "") -> Iterator[tuple[str, str]]:
    """(pointer, problem) for what RFC 8259 does not allow in a decoded value: non-finite numbers (NaN, Infinity
    are JavaScript, not JSON: JSON.parse throws) and strings with a lone surrogate (not Unicode text)."""
    stack = [(value, base)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            literal = "NaN" if math.isnan(node) else ("Infinity" if node > 0 else "-Infinity")
            yield where or "/", f"{literal} is not a JSON number (RFC 8259 section 6)"
        elif isinstance(node, str) and _lone_surrogate(node):
            yield where or "/", "a string with a lone surrogate escape is not Unicode text (RFC 8259 section 8.2)"
        elif isinstance(node, dict):
            for key, item in reversed(list(node.items())):
                if isinstance(key, str) and _lone_surrogate(key):
                    yield f"{where}/{escape_token(key)}", "a key with a lone surrogate is not Unicode text"
                stack.append((item, f"{where}/{escape_token(key)}"))
        elif isinstance(node, list):
            stack.extend((item, f"{where}/{n}") for n, item in reversed(list(enumerate(node))))


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def strict_loads(text: str) -> Any:
    """JSON as a client's JSON.parse reads it: NaN and Infinity are errors, so are lone surrogates."""

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON value (JavaScript's JSON.parse rejects it)")

    value = json.loads(text, parse_constant=constant)
    for pointer, problem in strict_problems(value):
        raise ValueError(f"{problem} at {pointer}")
    return value
