"""Checks on image generation (OpenAI API reference: "Images", the image generation response)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.model.findings import Finding, Severity

# The formats an image generation answers with (output_format png, webp, jpeg; GIF for older models), by their
# first bytes.
_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"RIFF": "webp", b"GIF8": "gif"}


@check("images.data", "images", severity=Severity.FAILURE, needs_request=True,
       source="OpenAI API reference, Images: `n` images, each `b64_json` (base64 of the image) or a `url`")
def images_data(ctx: CheckContext) -> Iterator[Finding]:
    """`n` images come back, each a `b64_json` that decodes to a real image (PNG, JPEG, WebP) or a `url`."""
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    wanted = (ctx.request or {}).get("n") or 1
    items = data if isinstance(data, list) else []
    if len(items) != wanted:
        yield finding("images.data", "/data", f"asked for {wanted} image(s), got {len(items)}", expected=wanted,
                      seen=len(items))
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        encoded, url = item.get("b64_json"), item.get("url")
        if not encoded and not url:
            yield finding("images.data", f"/data/{number}", "the image has neither b64_json nor url",
                          expected="b64_json or url", seen=sorted(item))
            continue
        if not isinstance(encoded, str):
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            yield finding("images.data", f"/data/{number}/b64_json", "b64_json is not base64",
                          expected="base64 of an image", seen=encoded[:40])
            continue
        if not any(raw.startswith(magic) for magic in _MAGIC):
            yield finding("images.data", f"/data/{number}/b64_json", "b64_json does not decode to a PNG, JPEG, WebP "
                          "or GIF image", expected="an image file", seen=raw[:8].hex())


def image_size(raw: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG (its IHDR) or GIF (its logical screen), read from the header; None otherwise."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) >= 24 and raw[12:16] == b"IHDR":
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    if raw.startswith(b"GIF8") and len(raw) >= 10:
        return int.from_bytes(raw[6:8], "little"), int.from_bytes(raw[8:10], "little")
    return None


@check("images.size", "images", needs_request=True,
       source="OpenAI API reference, Images: size, \"The size of the generated images\" (e.g. 1024x1024)")
def images_size(ctx: CheckContext) -> Iterator[Finding]:
    """An image asked for at a `size` ("WIDTHxHEIGHT") comes back at that size (read from a PNG or GIF header)."""
    size = (ctx.request or {}).get("size")
    if not isinstance(size, str) or "x" not in size:
        return
    try:
        wanted = tuple(int(part) for part in size.split("x", 1))
    except ValueError:
        return
    data = ctx.body.get("data") if isinstance(ctx.body, dict) else None
    for number, item in enumerate(data if isinstance(data, list) else []):
        encoded = item.get("b64_json") if isinstance(item, dict) else None
        if not isinstance(encoded, str):
            continue
        try:
            seen = image_size(base64.b64decode(encoded[:64], validate=False))
        except (binascii.Error, ValueError):
            continue
        if seen is not None and seen != wanted:
            yield finding("images.size", f"/data/{number}/b64_json", f"asked for {size}, got {seen[0]}x{seen[1]}",
                          expected=size, seen=f"{seen[0]}x{seen[1]}")
