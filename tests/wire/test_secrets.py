"""The canary key goes in through every path a key can travel and comes out nowhere.

Paths: the Authorization header, an x-goog-api-key header, a ?key= query parameter (both as Google documents
them), a server that echoes the key in error bodies and headers, and error messages built from those bodies.
Places it must not reach: cassettes, report.json/md/html, JUnit XML, terminal output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.wire.scrub import Scrubber
from tests.run.test_end_to_end import all_text, conformance
from tests.standin.server import Reply, running

AUTH_STYLES = ["bearer", "header:x-goog-api-key", "query:key"]


def profile_for(tmp: Path, auth: str) -> Path:
    source = (Path(__file__).parent.parent / "standin" / "standin.toml").read_text()
    path = tmp / "profile.toml"
    path.write_text(source.replace('embedding_size = 8', f'embedding_size = 8\nauth = "{auth}"'))
    return path


def leak_in_body(path: str, request: dict[str, Any], reply: Reply) -> Reply:
    if request.get("stop"):  # chat.stop: a 500 whose message quotes the key, raised by the SDK as an exception
        return Reply(500, {"error": {"message": "internal error", "type": "server_error", "param": None,
                                     "code": None}})
    return reply


@pytest.mark.parametrize("auth", AUTH_STYLES)
def test_canary_key_appears_nowhere(tmp_path: Path, canary_key: str, auth: str) -> None:
    profile = profile_for(tmp_path, auth)
    with running(canary_key, echo_key_in_errors=True) as server:
        server.mutations.append(leak_in_body)
        live = conformance("run", "--target", str(profile), "--base-url", server.base_url, "--record-mode", "once",
                           "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"),
                           "--junitxml", str(tmp_path / "r" / "junit.xml"), "--retries", "0",
                           "-k", "chat.system_user or chat.stop or errors.unknown_model or stream.basic",
                           key=canary_key)
        seen = [request for request in server.requests if canary_key in str(request)]
    assert seen, "the key did not reach the server: the path under test was not exercised"
    kind, _, name = auth.partition(":")
    if kind == "query":
        assert all(f"{name}={canary_key}" in path for path, _, _ in seen)
    replay = conformance("run", "--target", str(profile), "--base-url", "http://127.0.0.1:9/v1/",
                         "--cassette-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r2"),
                         "-k", "chat.system_user or chat.stop or errors.unknown_model or stream.basic")
    assert live.returncode == 1 and replay.returncode == 1  # chat.stop is a 500: ERROR
    written = all_text(tmp_path)
    assert {p.suffix for p in tmp_path.rglob("*.*")} >= {".yaml", ".json", ".md", ".html", ".xml"}
    for text in (written, live.stdout, live.stderr, replay.stdout, replay.stderr):
        assert canary_key not in text
    assert "request made with key REDACTED" in written  # the echo happened, and was scrubbed


def test_scrubber_covers_headers_query_and_bodies(canary_key: str) -> None:
    scrub = Scrubber([canary_key])
    assert scrub.url(f"https://h/v1/x?key={canary_key}&alt=sse") == "https://h/v1/x?key=REDACTED&alt=sse"
    assert scrub.url("https://h/v1/x?api_key=other") == "https://h/v1/x?api_key=REDACTED"
    assert scrub.headers({"X-Goog-Api-Key": "anything", "x-trace": canary_key}) == {
        "X-Goog-Api-Key": "REDACTED", "x-trace": "REDACTED"}
    assert canary_key not in scrub.text(f'{{"error": "bad key {canary_key}"}}')


def test_hand_made_cassette_with_a_key_stops_the_run(tmp_path: Path) -> None:
    from tests.conftest import REPO

    folder = tmp_path / "c" / "rest"
    folder.mkdir(parents=True)
    original = (REPO / "cassettes" / "llamacpp" / "rest" / "chat.stop.yaml").read_text()
    leaked = original.replace("REDACTED", "AIzaSyA1234567890abcdefghijklmnopqrstu", 1)
    (folder / "chat.stop.yaml").write_text(leaked)
    result = conformance("run", "--target", "llamacpp", "--cassette-dir", str(tmp_path / "c"),
                         "--report-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "looks like an API key" in result.stderr and "AIzaSyA1234567890" not in result.stderr
    assert not (tmp_path / "r").exists()
    assert (folder / "chat.stop.yaml").read_text() == leaked  # nothing deleted


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["AIza", "sk-", "Bearer ", "?key=", "&key=", "x", "_", "-", ".", " ", "0123456789",
                                 "abcdefghijklmnopqrstuvwxyz"]), max_size=40).map("".join))
def test_key_shapes_are_found_exactly_where_the_single_pattern_finds_them(text: str) -> None:
    from conformance.wire.scrub import KEY_PATTERN, looks_like_key

    expected = KEY_PATTERN.search(text)
    assert looks_like_key(text) == (None if expected is None else expected.group(0)[:8] + "...")
