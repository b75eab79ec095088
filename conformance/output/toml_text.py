"""TOML text the suite writes for people to edit (profiles, known-gaps manifests): values that always parse back
to what they were, whatever a user or a server put in them (quotes, newlines, control characters, lone
surrogates). Python's tomllib reads TOML; nothing in the standard library writes it."""

from __future__ import annotations

import json


def toml_string(value: str) -> str:
    """A TOML basic string. JSON's string escapes are TOML's (\\" \\\\ \\n \\t \\uXXXX) and json.dumps emits no
    other; a lone surrogate, which TOML cannot hold, becomes U+FFFD."""
    clean = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if any(
        0xD800 <= ord(c) <= 0xDFFF for c in value) else value
    return json.dumps(clean, ensure_ascii=True)


def toml_strings(values: list[str]) -> str:
    return "[" + ", ".join(toml_string(v) for v in values) + "]"
