"""A hostile server (SYNTHETIC, loopback, bounded in time) against a whole run on every surface.

Each case of the catalogue gets one kind of hostility; the run must end, within its deadlines, with a complete and
strict report in which every case has its row and a classified verdict, and the canary key must appear in no
output in any encoding. A second origin (127.0.0.2) stands by to catch a key that follows a redirect.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.conftest import need_every_surface
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin import hostile as h

TIMEOUT_S = 2


def encodings(key: str) -> dict[str, str]:
    raw = key.encode()
    return {
        "percent": quote(key, safe=""),
        "base64": base64.b64encode(raw).decode(),
        "base64url-shifted": base64.urlsafe_b64encode(b"x" + raw).decode(),
        "hex": binascii.hexlify(raw).decode().upper(),
        "unicode-escapes": "".join(f"\\u{ord(c):04x}" for c in key),
    }


def leak_everywhere(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    key = handler.server.owner.api_key
    answer = json.loads(json.dumps(reply.body))
    forms = encodings(key)
    answer["choices"][0]["message"]["content"] = "1 2 3 4 " + " ".join(f"{k}={v}" for k, v in forms.items())
    payload = json.dumps(answer).replace(json.dumps(forms["unicode-escapes"])[1:-1], forms["unicode-escapes"])
    handler.send(200, f"OK {key}", {"content-type": "application/json", f"x-leak-{key}": "1",
                                    "x-leak-value": forms["base64"]}, payload.encode())


def undeclared_function_named_after_the_key(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    answer = json.loads(json.dumps(reply.body))
    answer["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = handler.server.owner.api_key
    handler.send(200, "OK", {"content-type": "application/json"}, json.dumps(answer).encode())


def key_split_across_deltas_with_legal_sse_fields(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    key = handler.server.owner.api_key
    events = [json.loads(e) for e in reply.events if e != "[DONE]"]
    pieces = [f'{{"location": "{key[:9]}', f'{key[9:20]}', f'{key[20:]}"}}']
    first_args = next(i for i, e in enumerate(events) if e["choices"] and e["choices"][0]["delta"].get("tool_calls"))
    template = events[first_args + 1]
    args_events = []
    for piece in pieces:
        event = json.loads(json.dumps(template))
        event["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] = piece
        args_events.append(event)
    rest = [e for e in events[first_args + 1:] if not e["choices"] or not e["choices"][0]["delta"].get("tool_calls")]
    events = [*events[: first_args + 1], *args_events, *rest]
    stream = "retry: 3000\n\n: keep-alive comment\n\n"
    stream += "".join(f"id: {n}\ndata: {json.dumps(e)}\n\n" for n, e in enumerate(events)) + "data: [DONE]\n\n"
    handler.send(200, "OK", {"content-type": "text/event-stream"}, stream.encode())


def error_mid_stream(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    first = reply.events[0]
    stream = f"data: {first}\n\nevent: error\ndata: " + json.dumps(
        {"error": {"message": "Resource has been exhausted", "type": "rate_limit", "code": 429}}) + "\n\n"
    handler.send(200, "OK", {"content-type": "text/event-stream"}, stream.encode())


def deep_json(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    handler.send(200, "OK", {"content-type": "application/json"}, b"[" * 100_000 + b"]" * 100_000)


def latin1_body(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    payload = json.dumps(reply.body).encode().replace(b'"object"', b'"obj\xe9ct_note": "caf\xe9", "object"', 1)
    handler.send(200, "OK", {"content-type": "application/json"}, payload)


def duplicate_keys(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
    payload = json.dumps(reply.body)
    payload = payload.replace('"object": "list"', '"object": "list", "object": "embedding"', 1)
    handler.send(200, "OK", {"content-type": "application/json"}, payload.encode())


def redirect_elsewhere(target: str) -> h.Behaviour:
    def send(handler: Any, path: str, body: dict[str, Any], reply: Any) -> None:
        location = f"{target}chat/completions?key={handler.server.owner.api_key}"
        handler.send(307, "Temporary Redirect", {"location": location, "content-type": "application/json"},
                     b"{}")

    return send


HOSTILITY: dict[str, tuple[h.Behaviour | None, str, str]] = {
    # case: (behaviour, verdict on every surface, words in the reason or a finding)
    "stream.basic": (h.endless_stream, "ERROR", "no complete response"),  # the size cap or the deadline, first
    "chat.system_user": (h.endless_processing, "ERROR", f"did not end within {TIMEOUT_S} s"),
    "chat.multi_turn": (h.drip, "ERROR", f"did not end within {TIMEOUT_S} s"),
    "n.one": (h.gzip_bomb(400), "ERROR", "exceeded 5 MB"),
    "chat.max_tokens": (None, "ERROR", "redirect"),  # set up with the second origin below
    "chat.stop": (leak_everywhere, "*", ""),
    "tools.auto": (undeclared_function_named_after_the_key, "FAIL", "tools.call.name"),
    "tools.stream": (key_split_across_deltas_with_legal_sse_fields, "*", ""),
    "stream.include_usage": (error_mid_stream, "ERROR", "Resource has been exhausted"),
    "n.two": (deep_json, "ERROR", "nested too deeply"),
    "embeddings.single": (latin1_body, "*", "http.encoding"),  # and the Python SDK cannot decode it: FAIL there
    "embeddings.batch": (duplicate_keys, "DEVIATION", "json.duplicate_keys"),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import CANARY_KEY

    need_every_surface()
    tmp = tmp_path_factory.mktemp("hostile")
    with h.hostile(CANARY_KEY) as server, h.hostile(CANARY_KEY, host="127.0.0.2") as elsewhere:
        for case_id, (behaviour, _, _) in HOSTILITY.items():
            server.on(h.for_case(case_id), behaviour or redirect_elsewhere(elsewhere.base_url))
        started = time.monotonic()
        result = conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--record-mode", "once",
                             "--cassette-dir", str(tmp / "cassettes"), "--report-dir", str(tmp / "report"),
                             "--junitxml", str(tmp / "report" / "junit.xml"), "--timeout", str(TIMEOUT_S),
                             "--retries", "0", "--max-body-mb", "5", "-n", "2", "-k", " or ".join(HOSTILITY),
                             key=CANARY_KEY)
        elapsed = time.monotonic() - started
        reached_elsewhere = list(elsewhere.requests)
    report_text = (tmp / "report" / "report.json").read_text()
    return {"tmp": tmp, "result": result, "report": json.loads(report_text), "report_text": report_text,
            "elapsed": elapsed, "elsewhere": reached_elsewhere}


def test_the_run_ends_with_a_complete_report(hostile_run: dict[str, Any]) -> None:
    from conformance.surfaces import SURFACES

    result = hostile_run["result"]
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    pairs = [(r["case"], r["surface"]) for r in hostile_run["report"]["results"]]
    assert sorted(pairs) == sorted((c, s) for c in HOSTILITY for s in SURFACES)  # each exactly once
    # 12 cases x 4 surfaces on 2 workers, three of them hostile for the whole deadline on every surface.
    assert hostile_run["elapsed"] < 120


@pytest.mark.parametrize("case_id", list(HOSTILITY))
def test_each_hostility_gets_its_verdict(hostile_run: dict[str, Any], case_id: str) -> None:
    _, verdict, words = HOSTILITY[case_id]
    for result in (r for r in hostile_run["report"]["results"] if r["case"] == case_id):
        if verdict != "*":
            assert result["verdict"] == verdict, (result["surface"], result["reason"], result["findings"][:3])
        text = result["reason"] + " " + " ".join(f"{f['check']} {f['message']}" for f in result["findings"])
        assert words in text, (result["surface"], text[:400])
        if result["verdict"] == "ERROR":
            assert "\n" not in result["reason"].strip()


def test_legal_sse_fields_are_never_findings(hostile_run: dict[str, Any]) -> None:
    for result in (r for r in hostile_run["report"]["results"] if r["case"] == "tools.stream"):
        assert result["verdict"] not in ("FAIL", "ERROR"), (result["surface"], result["reason"])
        assert not {f["check"] for f in result["findings"]} & {"stream.framing", "stream.events.json",
                                                                "sdk.raised", "sdk.stream.accumulate"}


def test_no_request_reached_another_origin(hostile_run: dict[str, Any]) -> None:
    assert hostile_run["elsewhere"] == []


def test_report_is_strict_json(hostile_run: dict[str, Any]) -> None:
    json.loads(hostile_run["report_text"], parse_constant=lambda name: pytest.fail(f"{name} in report.json"))


def decoded_views(text: str) -> list[str]:
    """The text as written plus every decoding a reader could apply to find a key inside it."""
    views = [text, unquote(text)]
    views.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    for token in re.findall(r"[0-9A-Fa-f]{16,}", text):
        try:
            views.append(binascii.unhexlify(token[: len(token) // 2 * 2]).decode("latin-1"))
        except (binascii.Error, ValueError):
            pass
    for token in re.findall(r"[A-Za-z0-9+/_-]{16,}={0,2}", text):
        for skip in range(4):
            piece = token[skip:].rstrip("=")
            piece = piece[: len(piece) // 4 * 4]
            for decoder in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    views.append(decoder(piece).decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        views.append(codecs.decode(text.encode("latin-1", "replace"), "unicode_escape", "replace"))
    return views


def test_canary_key_reaches_no_output_in_any_encoding(hostile_run: dict[str, Any], canary_key: str) -> None:
    tmp: Path = hostile_run["tmp"]
    outputs = {str(p.relative_to(tmp)): p.read_text(errors="replace") for p in tmp.rglob("*") if p.is_file()}
    outputs["stdout"], outputs["stderr"] = hostile_run["result"].stdout, hostile_run["result"].stderr
    assert any(name.endswith(".yaml") for name in outputs) and any(name.endswith(".xml") for name in outputs)
    leaks = [name for name, text in outputs.items() if any(canary_key in view for view in decoded_views(text))]
    assert not leaks, leaks
    assert "REDACTED" in outputs["report/report.json"]  # the key was sent back, and replaced


def test_a_key_split_across_deltas_is_redacted_in_the_cassette_once_reassembled(hostile_run: dict[str, Any],
                                                                                canary_key: str) -> None:
    import yaml

    from conformance.api.chat.stream import assemble
    from conformance.wire.sse import parse_stream

    for cassette in (hostile_run["tmp"] / "cassettes").rglob("tools.stream.yaml"):
        body = yaml.safe_load(cassette.read_text())["interactions"][0]["response"]["body"]["string"]
        joined = "".join(call.arguments for choice in assemble(parse_stream(body).chunks).values()
                         for call in choice.calls.values())
        assert canary_key not in joined and "REDACTED" in joined, (cassette, joined)
