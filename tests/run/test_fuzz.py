"""Live fuzzing against the SYNTHETIC stand-in server: a server that ignores n > 1 is found, the request is
shrunk to the minimum, saved as a case, and replays offline with the same verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings

from conformance.run.fuzz import case_for, requests
from tests.run.test_end_to_end import PROFILE, conformance
from tests.standin.server import Reply, running


def ignore_n(path: str, request: dict[str, Any], reply: Reply) -> Reply:
    if isinstance(reply.body, dict) and reply.body.get("choices"):
        reply.body["choices"] = reply.body["choices"][:1]
    return reply


def test_fuzz_finds_shrinks_saves_and_replays(tmp_path: Path, canary_key: str) -> None:
    common = ["--target", PROFILE, "--cassette-dir", str(tmp_path / "c"), "--cases-dir", str(tmp_path / "cases")]
    with running(canary_key) as server:
        server.mutations.append(ignore_n)
        found = conformance("run", *common, "--base-url", server.base_url, "--fuzz", "400", "--fuzz-seed", "7",
                            key=canary_key)
    assert found.returncode == 1, found.stdout + found.stderr
    saved = list((tmp_path / "cases").glob("fuzz.*.json"))
    assert len(saved) == 1
    case = json.loads(saved[0].read_text())
    # Shrunk: n=2 is the smallest request that shows it, and nothing else in the request matters.
    assert case["body"]["n"] == 2 and case["body"]["model"] == "<chat_model>"
    assert case["found"]["verdict"] == "FAIL" and "chat.choices.count /choices" in case["found"]["findings"]
    assert (tmp_path / "c" / "rest" / f"{case['id']}.yaml").is_file()
    assert canary_key not in found.stdout + found.stderr
    replay = conformance("run", *common, "--base-url", "http://127.0.0.1:9/v1/", "--report-dir",
                         str(tmp_path / "r"), "--surfaces", "rest", "-k", case["id"])
    results = json.loads((tmp_path / "r" / "report.json").read_text())["results"]
    assert replay.returncode == 1 and [(r["case"], r["verdict"]) for r in results] == [(case["id"], "FAIL")]


def test_fuzz_on_a_conformant_server_finds_nothing(tmp_path: Path, canary_key: str) -> None:
    with running(canary_key) as server:
        done = conformance("run", "--target", PROFILE, "--base-url", server.base_url, "--fuzz", "25",
                           "--cassette-dir", str(tmp_path / "c"), "--cases-dir", str(tmp_path / "cases"),
                           key=canary_key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every answer passed the checks" in done.stdout
    assert not (tmp_path / "cases").exists()


def test_fuzz_needs_the_key(tmp_path: Path) -> None:
    done = conformance("run", "--target", PROFILE, "--fuzz", "3")
    assert done.returncode == 2 and "CONFORMANCE_STANDIN_KEY" in done.stderr


@settings(max_examples=200, deadline=None)
@given(requests())
def test_drawn_requests_use_documented_parameters_only(item: tuple[str, dict[str, Any]]) -> None:
    endpoint, body = item
    allowed = {"chat/completions": {"model", "messages", "temperature", "top_p", "max_tokens", "stop", "n",
                                    "stream", "seed", "tools", "tool_choice"},
               "embeddings": {"model", "input", "dimensions", "encoding_format"}}[endpoint]
    assert set(body) <= allowed
    # Ids are stable (key order does not matter) and tell requests apart (any changed value changes the id).
    assert case_for(endpoint, dict(reversed(list(body.items())))).id == case_for(endpoint, body).id
    assert case_for(endpoint, {**body, "model": body["model"] + "-other"}).id != case_for(endpoint, body).id
