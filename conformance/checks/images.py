"""Checks on image generation (OpenAI API reference: "Images", the image generation response)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from conformance.checks.registry import CheckContext, check, finding
from conformance.findings import Finding, Severity

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
