"""A hostile server, third round: any chain of content codings stays bounded, the key leaves no piece, and the
smaller breakages (Retry-After: nan, credentials in a base URL, a mistyped cassette, a huge finding value) end as
a classified result or a one-line usage error. Servers here are SYNTHETIC and on loopback."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.run.runner import _bounded
from conformance.run.sending import retry_delay
from conformance.wire.scrub import Scrubber, scrub_split_stream
from conformance.wire.transport import Limits, classify_exception, new_client
from tests.conftest import CANARY_KEY, REPO

BODY = json.dumps({"ok": True}).encode()


@contextmanager
def encoded_server(cases: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            encoding, data = cases[self.path]
            self.send_response(200)
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, cap: int = 1_000_000) -> tuple[str, object]:
    try:
        with new_client("httpx", Limits(10, cap), {"request": [], "response": []}) as client:
            return "ok", client.get(url).content
    except Exception as exc:
        return classify_exception(exc)


def test_every_chain_of_codings_is_decoded_in_order_and_bounded_at_each_stage() -> None:
    bomb = gzip.compress(gzip.compress(b"\0" * 20_000_000))  # ~20 KB on the wire
    cases = {"/gg": ("gzip, gzip", gzip.compress(gzip.compress(BODY))), "/ig": ("identity, gzip", gzip.compress(BODY)),
             "/bomb": ("gzip, gzip", bomb), "/br": ("br", b"\x0b\x02"), "/mixed": ("gzip, zstd", b"x")}
    assert len(bomb) < 100_000
    with encoded_server(cases) as base:
        assert _get(base + "/gg") == ("ok", BODY)
        assert _get(base + "/ig") == ("ok", BODY)
        assert _get(base + "/bomb") == ("too_large", "the response body exceeded 1 MB")
        kind, message = _get(base + "/br")
        assert kind == "connection" and "unknown content coding 'br'" in str(message)
        assert "unknown content coding 'zstd'" in str(_get(base + "/mixed")[1])


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_a_retry_after_that_is_no_delay_falls_back_to_backoff(value: str) -> None:
    delay = retry_delay({"retry-after": value}, attempt=1)
    assert delay == 2.0


def test_a_base_url_with_credentials_is_refused_without_printing_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--base-url", "https://alice:s3cret-pass@example.invalid/v1/", "--chat-model", "m",
                 "--embedding-model", "e"]) == 2
    err = capsys.readouterr().err
    assert "s3cret-pass" not in err and "alice" not in err and "user name or password" in err


def test_a_yaml_valid_but_mistyped_cassette_is_exit_2_before_the_run(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "c" / "rest"
    folder.mkdir(parents=True)
    original = (REPO / "cassettes" / "llamacpp" / "rest" / "chat.stop.yaml").read_text()
    (folder / "chat.stop.yaml").write_text(original.replace("code: 200", "code: '200'", 1))
    assert main(["run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                 str(tmp_path / "r"), "--surfaces", "rest", "-k", "chat.stop"]) == 2
    err = capsys.readouterr().err
    assert "integer status code" in err and err.count("\n") == 1 and "site-packages" not in err


def test_a_key_split_across_two_fields_of_one_body_leaves_neither_half() -> None:
    scrubber = Scrubber([CANARY_KEY])
    half = len(CANARY_KEY) // 2
    body = json.dumps({"id": CANARY_KEY[:half], "system_fingerprint": CANARY_KEY[half:]})
    cleaned = scrubber.text(body)
    assert CANARY_KEY[:half] not in cleaned and CANARY_KEY[half:] not in cleaned
    assert scrubber.text("an ordinary answer about the sea") == "an ordinary answer about the sea"


def _stream(deltas: list[dict]) -> str:
    return "".join("data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                          "choices": [{"index": 0, "delta": d, "finish_reason": None}]}) + "\n\n"
                   for d in deltas) + "data: [DONE]\n\n"


@pytest.mark.parametrize("deltas", [
    [{"tool_calls": [{"index": 0, "id": "c1", "function": {"name": CANARY_KEY[i:i + 5]}}]}
     for i in range(0, len(CANARY_KEY), 5)],
    [{"function_call": {"arguments": CANARY_KEY[i:i + 5]}} for i in range(0, len(CANARY_KEY), 5)],
    [{"function_call": {"name": CANARY_KEY[i:i + 5]}} for i in range(0, len(CANARY_KEY), 5)],
    # 2 MB of text first (the first pass keeps only a bounded tail of each field), then the key a character a delta
    [*({"function_call": {"name": "x" * 1000}} for _ in range(2000)),
     *({"function_call": {"name": char}} for char in CANARY_KEY)],
])
def test_a_key_split_across_deltas_of_a_field_clients_join_is_redacted(deltas: list[dict]) -> None:
    scrubber = Scrubber([CANARY_KEY])
    text = _stream(deltas)
    cleaned = scrub_split_stream(scrubber.text(text), scrubber)

    def joined(pieces: list[dict]) -> str:  # what a client assembles from the stream's deltas
        return "".join((p.get("function_call") or {}).get("arguments", "") +
                       (p.get("function_call") or {}).get("name", "") +
                       "".join((c.get("function") or {}).get("name", "") for c in p.get("tool_calls", []))
                       for p in pieces)

    assert CANARY_KEY in joined(deltas)
    pieces = [d for line in cleaned.splitlines() if line.startswith("data: {")
              for d in [json.loads(line[6:])["choices"][0]["delta"]]]
    assert CANARY_KEY not in joined(pieces) and "REDACTED" in joined(pieces)


@pytest.mark.parametrize("at", [0, (1 << 20) - 10, (1 << 20) - 1, 3 * (1 << 20) - 20])
def test_a_key_in_a_long_answer_is_found_wherever_it_sits(at: int) -> None:
    """The may-hold test reads a long answer a megabyte at a time: a key across a window's edge is still found."""
    scrubber = Scrubber([CANARY_KEY])
    for form in (CANARY_KEY, "".join(f"\\u{ord(c):04x}" for c in CANARY_KEY)):
        text = "a" * at + form + "b" * (3 * (1 << 20) - at)
        cleaned = scrubber.text(text)
        assert form not in cleaned and "REDACTED" in cleaned


def test_a_huge_finding_value_is_cut_in_the_report() -> None:
    finding = {"check": "x", "pointer": "/id", "message": "m", "expected": "short", "seen": "k" * 10_000_000}
    bounded = _bounded(dict(finding))
    assert len(bounded["seen"]) < 400 and bounded["seen"].endswith("more characters]")
    assert bounded["expected"] == "short"


# --- the proxy guards the key ----------------------------------------------------------------------------------------

def _raw(port: int, method: str, path: str, *, host: str = "127.0.0.1", body: bytes = b"",
         chunked: bool = False) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest(method, path, skip_host=True)
    connection.putheader("Host", host)
    connection.putheader("Content-Type", "application/json")
    if chunked:
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for start in range(0, len(body), 7):
            piece = body[start:start + 7]
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        connection.send(b"0\r\n\r\n")
    else:
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
    answer = connection.getresponse()
    return answer.status, answer.read()


@pytest.fixture
def guarded_proxy(canary_key: str) -> Iterator[tuple[object, object, int, str]]:
    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import RecordingProxy
    from tests.standin.server import running

    with running(canary_key, echo_key_in_errors=True) as server:
        auth = {"Authorization": f"Bearer {canary_key}"}
        with RecordingProxy(server.base_url, auth, {}, Capture(Scrubber([canary_key])), timeout_s=10, port=0) as proxy:
            port = int(proxy.base_url.split(":")[2].split("/")[0])
            route = "/" + proxy.base_url.split("/", 3)[3]  # /<token>/v1/
            yield server, proxy, port, route


def test_the_proxy_answers_only_its_secret_route(guarded_proxy: tuple) -> None:
    server, _, port, route = guarded_proxy
    assert len(route.split("/")[1]) >= 20  # a random token, not guessable
    status, _ = _raw(port, "GET", "/v1/models")
    assert status == 404 and server.requests == []
    assert _raw(port, "GET", route + "models")[0] == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_the_proxy_refuses_a_host_that_is_not_loopback(guarded_proxy: tuple, host: str) -> None:
    server, _, port, route = guarded_proxy
    status, body = _raw(port, "GET", route + "models", host=host)
    assert status == 421 and b"loopback" in body and server.requests == []


@pytest.mark.parametrize("path", ["../../../x", "..%2f..%2fx", "%2e%2e/%2e%2e/admin", "chat/../../secret"])
def test_the_proxy_confines_paths_to_the_base_url(guarded_proxy: tuple, path: str) -> None:
    server, _, port, route = guarded_proxy
    status, body = _raw(port, "GET", route + path)
    assert status == 400 and b"bad_path" in body and server.requests == []


def test_the_proxy_forwards_the_query_string_and_a_chunked_body(guarded_proxy: tuple) -> None:
    server, _, port, route = guarded_proxy
    request = json.dumps({"model": "standin-chat", "messages": [{"role": "user", "content": "Hello"}]}).encode()
    status, body = _raw(port, "POST", route + "chat/completions?trace=yes&key=stolen", body=request, chunked=True)
    assert status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "Sky blue"
    path, _, sent = server.requests[-1]
    assert sent["messages"][0]["content"] == "Hello"
    assert "trace=yes" in path and "stolen" not in path


def test_the_proxy_scrubs_the_key_the_server_echoes(guarded_proxy: tuple, canary_key: str) -> None:
    _, _, port, route = guarded_proxy
    status, body = _raw(port, "POST", route + "chat/completions", body=b'{"model": "no-such-model"}')
    assert status >= 400 and canary_key.encode() not in body and b"REDACTED" in body


# --- bounded judging -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("behaviour,case,budget", [
    ("many_choices", "chat.system_user", "JSON values"),
    ("many_tool_calls", "tools.auto", "JSON values"),
    ("many_tiny_events", "stream.basic", "events"),
    ("many_output_items", "responses.text", "JSON values"),
    ("many_named_events", "responses.stream", "events"),
    ("large_deltas", "stream.basic", "MB"),
])
def test_an_answer_past_the_judging_budget_is_an_error_on_every_python_surface(
        tmp_path: Path, behaviour: str, case: str, budget: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.standin import hostile as h

    monkeypatch.setenv("CONFORMANCE_STANDIN_KEY", CANARY_KEY)
    count = {"many_tiny_events": 300_000, "many_named_events": 260_000, "large_deltas": 4500}.get(behaviour, 100_000)
    with h.hostile(CANARY_KEY) as server:
        server.on(h.for_case(case), getattr(h, behaviour)(count))
        code = main(["run", "--target", str(REPO / "tests" / "standin" / "standin.toml"), "--base-url",
                     server.base_url, "--record-mode", "once", "--surfaces", "python-sdk,rest", "-k", case,
                     "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    assert code == 1
    rows = [r for r in json.loads((tmp_path / "r" / "report.json").read_text())["results"] if r["case"] == case]
    assert len(rows) == 2  # (-k is a substring: responses.text also selects responses.text.json_schema)
    for row in rows:
        assert row["verdict"] == "ERROR" and row["reason"].startswith("not judged: ") and budget in row["reason"]
        assert "past the judging budget" in row["reason"]
    # Not judged, so not kept: the cassette holds the reason, and a replay ends where the live run did.
    cassettes = list((tmp_path / "c").rglob(f"{case}.yaml"))
    assert len(cassettes) == 2
    for cassette in cassettes:
        assert cassette.stat().st_size < 100_000 and "body not kept" in cassette.read_text()
    assert main(["run", "--target", str(REPO / "tests" / "standin" / "standin.toml"), "--surfaces",
                 "python-sdk,rest", "-k", case, "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                 str(tmp_path / "replay")]) == 1
    replayed = [r for r in json.loads((tmp_path / "replay" / "report.json").read_text())["results"]
                if r["case"] == case]
    assert [(r["verdict"], r["reason"]) for r in replayed] == [(r["verdict"], r["reason"]) for r in rows]


def test_a_large_embeddings_batch_is_within_the_budget() -> None:
    from conformance.wire.transport import judging_budget_problem

    data = ",".join(f'{{"object":"embedding","index":{n},"embedding":[0.1]}}' for n in range(30_000))
    assert judging_budget_problem('{"object":"list","data":[' + data + "]}", "application/json") is None


def test_a_cassette_larger_than_any_run_records_is_refused_unread(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "c" / "rest"
    folder.mkdir(parents=True)
    with open(folder / "chat.stop.yaml", "wb") as handle:
        handle.truncate(600_000_000)  # sparse: no disk is spent
    assert main(["run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                 str(tmp_path / "r"), "--surfaces", "rest", "-k", "chat.stop"]) == 2
    assert "more than a run records" in capsys.readouterr().err


def test_a_content_length_shorter_than_the_stream_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.standin import hostile as h

    monkeypatch.setenv("CONFORMANCE_STANDIN_KEY", CANARY_KEY)
    with h.hostile(CANARY_KEY) as server:
        server.on(h.for_case("stream.basic"), h.short_content_length)
        main(["run", "--target", str(REPO / "tests" / "standin" / "standin.toml"), "--base-url", server.base_url,
              "--record-mode", "once", "--surfaces", "rest", "-k", "stream.basic", "--cassette-dir",
              str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    (row,) = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
    assert row["verdict"] == "ERROR" and "broke off inside event" in row["reason"], row["reason"]


def test_a_cassette_that_cannot_be_written_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.standin.server import Reply, running

    def leaks_a_key_shape(path: str, request: dict, reply: Reply) -> Reply:
        if isinstance(reply.body, dict) and reply.body.get("choices"):
            reply.body["choices"][0]["message"]["content"] = "here: sk-" + "Zq9" * 10  # someone else's key shape
        return reply

    monkeypatch.setenv("CONFORMANCE_STANDIN_KEY", CANARY_KEY)
    with running(CANARY_KEY) as server:
        server.mutations.append(leaks_a_key_shape)
        main(["run", "--target", str(REPO / "tests" / "standin" / "standin.toml"), "--base-url", server.base_url,
              "--record-mode", "once", "--surfaces", "rest", "-k", "chat.system_user", "--cassette-dir",
              str(tmp_path / "c"), "--report-dir", str(tmp_path / "r")])
    (row,) = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
    assert row["verdict"] == "ERROR" and row["reason"].startswith("the cassette could not be written"), row["reason"]
    assert "key-like" in row["reason"] and "teardown" not in row["reason"]
    assert not list((tmp_path / "c").rglob("*.yaml"))
