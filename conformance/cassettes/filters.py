"""What is taken out of an exchange before it is recorded (vcrpy's filters): the key in every form, the recording
machine's local paths, the credential headers (scrub.SECRET_HEADERS: the one list) and query parameters; and how
requests are matched on replay."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from vcr.patch import PATCHER_NAMES

from conformance.wire.scrub import REDACTED, SECRET_HEADERS, SECRET_QUERY_PARAMETERS, Scrubber, scrub_split_stream
from conformance.wire.transport import NOT_KEPT_MARKER, judging_budget_problem


def vcr_config(scrubber: Scrubber) -> dict[str, Any]:
    """The vcrpy settings every surface records and replays with."""

    def scrub_request(request: Any) -> Any:
        if request.body:
            raw = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
            cleaned = scrubber.text(raw)
            if cleaned != raw:
                request.body = cleaned.encode("utf-8")
        request.uri = scrubber.url(request.uri)
        return request

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {}).get("string")
        content_type = next((v[0] if isinstance(v, list) and v else str(v) for k, v in
                             response.get("headers", {}).items() if k.lower() == "content-type"), "")
        over = judging_budget_problem(body, content_type) if isinstance(body, str | bytes) else None
        if over:  # not judged, so not kept: the cassette says why, and a replay ends where the live run did
            response["body"]["string"] = f"{NOT_KEPT_MARKER}{over}]".encode()
            body = None
        if isinstance(body, bytes):
            text = body.decode("utf-8", "replace")
            cleaned = scrub_local_paths(scrub_split_stream(scrubber.text(text), scrubber))
            if cleaned != text:
                response["body"]["string"] = cleaned.encode("utf-8")
        elif isinstance(body, str):
            response["body"]["string"] = scrub_local_paths(scrub_split_stream(scrubber.text(body), scrubber))
        status = response.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            status["message"] = scrubber.text(status["message"])
        headers = response.get("headers", {})
        response["headers"] = {
            scrubber.text(name): ([REDACTED] if name.lower() in SECRET_HEADERS else
                                  [_scrub_header(scrubber, name, v) for v in values])
            for name, values in headers.items()}
        return response

    return {
        "filter_headers": [(h, REDACTED) for h in sorted(SECRET_HEADERS)],
        "filter_query_parameters": [(q, REDACTED) for q in sorted(SECRET_QUERY_PARAMETERS)],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        # vcrpy's body matcher compares JSON bodies as values; a multipart upload is compared with its random
        # boundary set aside (each client draws a new one per request).
        "match_on": ["method", "path", BODY_MATCHER],
        "decode_compressed_response": True,
        # Every client in this process speaks httpx or httpx2 (the Python SDK, the REST surface, the proxy's
        # upstream side); http.client stays patched so that anything else is refused in a replay rather than sent.
        # Patching the other libraries vcrpy knows costs about 1 ms per cassette and guards nothing here.
        "skip_patchers": tuple(p for p in PATCHER_NAMES if p not in ("httpx", "httpx2", "httplib")),
    }


def _scrub_header(scrubber: Scrubber, name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return scrubber.url(value) if name.lower() in ("location", "content-location") else scrubber.text(value)


def _local_roots() -> list[tuple[str, str]]:
    roots = []
    for path, label in ((sys.prefix, "<python-env>"), (sys.base_prefix, "<python>"), (os.getcwd(), "<cwd>"),
                        (os.path.expanduser("~"), "<home>")):
        if path and len(path) > 1:
            roots.append((os.path.realpath(path), label))
            roots.append((path, label))
    return sorted(set(roots), key=lambda item: len(item[0]), reverse=True)


def scrub_local_paths(text: str) -> str:
    """Paths of the recording machine (its home, Python environment, working folder) replaced by their role.

    A server on the same machine (the reference server) quotes its own file paths in tracebacks; a committed
    cassette must not carry the recorder's folder layout.
    """
    for root, label in _local_roots():
        if root in text:
            text = text.replace(root, label)
    return text


BODY_MATCHER = "conformance_body"  # registered on every recorder (cassettes.configure)


def body_matches(recorded: Any, sent: Any) -> None:
    """vcrpy's body matcher for the suite's bodies (JSON compared as values, anything else as bytes), except that two
    multipart bodies match when they differ only in their boundary (each client draws a new one per request), and
    that a mismatch says only that the bodies differ: vcrpy's message is a difflib diff, quadratic in the bodies'
    size, and it builds it for every recorded request it compares (a conversation narrowing a 300 KB answer spent
    240 of its 250 seconds there)."""
    first, second = _multipart(recorded), _multipart(sent)
    if first is not None and second is not None:
        assert first == second, "the multipart bodies differ"
        return
    one, other = _raw(recorded), _raw(sent)
    if one == other:
        return
    if _is_json(recorded) and _is_json(sent):
        try:
            if json.loads(one) == json.loads(other):
                return
        except (ValueError, RecursionError):
            pass
    raise AssertionError(f"the bodies differ ({len(other)} bytes in this request, {len(one)} recorded)")


def _raw(request: Any) -> bytes:
    body = request.body or b""
    return body.encode("utf-8", "surrogateescape") if isinstance(body, str) else bytes(body)


def _is_json(request: Any) -> bool:
    return any(name.lower() == "content-type" and "json" in str(value).lower()
               for name, value in dict(request.headers or {}).items())


def _multipart(request: Any) -> bytes | None:
    from conformance.wire.exchange import MULTIPART_BOUNDARY, multipart_boundary

    boundary = multipart_boundary(dict(request.headers or {}))
    if not boundary:
        return None
    raw = request.body or b""
    raw = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    return raw.replace(boundary.encode("latin-1"), MULTIPART_BOUNDARY.encode())
