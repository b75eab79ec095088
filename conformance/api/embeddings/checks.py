"""Checks on embeddings (OpenAI API reference: "Create embeddings", "The embedding object")."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Iterator
from typing import Any

from conformance.api.chat.checks import index_findings
from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity


def data_of(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return body["data"]
    return []


def decode_base64_floats(text: str) -> list[float]:
    """Decode a base64 vector as the OpenAI SDKs do: little-endian float32. Raises ValueError when it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64 ({exc})") from None
    if len(raw) % 4:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def vectors(body: Any) -> list[tuple[int, list[float] | None, str | None]]:
    """(position, decoded vector or None, problem) per data item."""
    out: list[tuple[int, list[float] | None, str | None]] = []
    for position, item in enumerate(data_of(body)):
        embedding = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(embedding, str):
            try:
                out.append((position, decode_base64_floats(embedding), None))
            except ValueError as exc:
                out.append((position, None, str(exc)))
        elif isinstance(embedding, list):
            out.append((position, embedding, None))
        else:
            out.append((position, None, None))
    return out


def _input_count(request: dict[str, Any] | None) -> int | None:
    value = (request or {}).get("input")
    if isinstance(value, str):
        return 1
    if isinstance(value, list):
        return 1 if value and all(isinstance(v, int) for v in value) else len(value)
    return None


@check("embeddings.data.count", "embeddings", severity=Severity.FAILURE, needs_request=True)
def data_count(ctx: CheckContext) -> Iterator[Finding]:
    """One embedding comes back per input."""
    wanted = _input_count(ctx.request)
    seen = len(data_of(ctx.body))
    if wanted is not None and seen != wanted:
        yield finding("embeddings.data.count", "/data", f"{wanted} input(s) but {seen} embedding(s)",
                      expected=wanted, seen=seen)


@check("embeddings.data.index", "embeddings")
def data_index(ctx: CheckContext) -> Iterator[Finding]:
    """Embedding `index` values follow input order, 0..k-1."""
    indexes = [item.get("index") if isinstance(item, dict) else None for item in data_of(ctx.body)]
    yield from index_findings("embeddings.data.index", indexes, "/data", "embedding")


@check("embeddings.base64.decode", "embeddings", severity=Severity.FAILURE)
def base64_decode(ctx: CheckContext) -> Iterator[Finding]:
    """A base64 embedding decodes to finite little-endian float32 values."""
    for position, vector, problem in vectors(ctx.body):
        if problem:
            yield finding("embeddings.base64.decode", f"/data/{position}/embedding", problem,
                          expected="base64 of float32", seen="undecodable")
        elif vector is not None and not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vector):
            yield finding("embeddings.base64.decode", f"/data/{position}/embedding", "vector has non-finite values",
                          expected="finite numbers", seen="NaN or infinity")


@check("embeddings.encoding_format.honoured", "embeddings", severity=Severity.FAILURE, needs_request=True)
def encoding_format_honoured(ctx: CheckContext) -> Iterator[Finding]:
    """`encoding_format` decides the wire type of the vector: float gives numbers, base64 gives a string."""
    wanted = (ctx.request or {}).get("encoding_format") or "float"
    for position, item in enumerate(data_of(ctx.body)):
        embedding = item.get("embedding") if isinstance(item, dict) else None
        if wanted == "base64" and isinstance(embedding, list):
            yield finding("embeddings.encoding_format.honoured", f"/data/{position}/embedding",
                          "encoding_format=base64 was ignored: the vector came back as a list of numbers",
                          expected="base64 string", seen="array")
        if wanted == "float" and isinstance(embedding, str):
            yield finding("embeddings.encoding_format.honoured", f"/data/{position}/embedding",
                          "encoding_format=float was ignored: the vector came back as a string",
                          expected="array", seen="string")


@check("embeddings.dimensions", "embeddings", severity=Severity.FAILURE, needs_request=True)
def dimensions(ctx: CheckContext) -> Iterator[Finding]:
    """Vectors have `dimensions` values when asked for (else the model's own size, when the profile knows it)."""
    wanted = (ctx.request or {}).get("dimensions") or ctx.expect.embedding_size
    if not isinstance(wanted, int):
        return
    for position, vector, _ in vectors(ctx.body):
        if vector is not None and len(vector) != wanted:
            yield finding("embeddings.dimensions", f"/data/{position}/embedding",
                          f"vector has {len(vector)} values, expected {wanted}", expected=wanted, seen=len(vector))


@check("embeddings.vector.length", "embeddings")
def vector_length(ctx: CheckContext) -> Iterator[Finding]:
    """All vectors of one response have the same, non-zero length."""
    lengths = [(position, len(vector)) for position, vector, _ in vectors(ctx.body) if vector is not None]
    if not lengths:
        return
    first = lengths[0][1]
    for position, length in lengths:
        if length == 0 or length != first:
            yield finding("embeddings.vector.length", f"/data/{position}/embedding",
                          f"vector {position} has {length} values, vector 0 has {first}", expected=first, seen=length)


@check("embeddings.vector.zero", "embeddings", severity=Severity.FAILURE,
       source="OpenAI API reference, Embeddings: the embedding object, \"The embedding vector\" of the input; no "
              "genuine OpenAI embedding is the zero vector (14 of 14, scripts/mine-relations)")
def vector_not_zero(ctx: CheckContext) -> Iterator[Finding]:
    """An embedding is not the zero vector: it has no direction, so every cosine similarity with it divides by zero
    (a placeholder a server returns for an input it did not embed)."""
    for position, vector, _ in vectors(ctx.body):
        numbers = [v for v in vector or [] if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers and len(numbers) == len(vector or []) and not any(numbers):
            yield finding("embeddings.vector.zero", f"/data/{position}/embedding", f"vector {position} is all zeros "
                          f"({len(numbers)} values)", expected="a vector with a direction", seen="all zeros")


@check("embeddings.usage.total", "embeddings")
def usage_total(ctx: CheckContext) -> Iterator[Finding]:
    """Embeddings generate no completion tokens: `usage.total_tokens` equals `usage.prompt_tokens`."""
    usage = ctx.body.get("usage") if isinstance(ctx.body, dict) else None
    if not isinstance(usage, dict):
        return
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    if isinstance(prompt, int) and isinstance(total, int) and prompt != total:
        yield finding("embeddings.usage.total", "/usage/total_tokens",
                      f"total_tokens {total} != prompt_tokens {prompt} (embeddings have no completion tokens)",
                      expected=prompt, seen=total)
