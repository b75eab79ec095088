"""Faults a run must survive: each ends as a classified verdict with a one-line reason, and the run goes on.

The SYNTHETIC stand-in server (tests/standin) answers one catalogue case per fault with that fault; a single
recording run covers them all, then the report is read back. The table below is the documented behaviour.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.surfaces import SURFACES
from tests.conftest import need_every_surface, run_exit_code
from tests.run.test_end_to_end import conformance, run_args
from tests.standin.server import Reply, running

Fault = Callable[[Reply], Reply]


def sse(events: list[str], *, done: bool = True) -> bytes:
    return ("".join(f"data: {e}\n\n" for e in events) + ("data: [DONE]\n\n" if done else "")).encode()


def stream_of(reply: Reply) -> list[str]:
    return [e for e in reply.events or [] if e != "[DONE]"]


# case -> (fault, verdict per surface, words the reason or a finding must contain)
FAULTS: dict[str, tuple[Fault, dict[str, str], str]] = {
    "chat.system_user": (lambda r: Reply(200, raw=b"hello there"), {"*": "ERROR"}, "not JSON"),
    "chat.multi_turn": (lambda r: Reply(502, raw=b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                                        headers={"content-type": "text/html"}), {"*": "ERROR"}, "HTTP 502"),
    "chat.max_tokens": (lambda r: Reply(200, raw=json.dumps(r.body).encode()[:40]), {"*": "ERROR"}, "not JSON"),
    "chat.stop": (lambda r: Reply(200, [r.body]), {"*": "FAIL"}, "no choices"),
    "n.one": (lambda r: Reply(200, "a string"), {"*": "FAIL"}, "no choices"),
    "stream.basic": (lambda r: Reply(200, raw=sse(stream_of(r), done=False),
                                     headers={"content-type": "text/event-stream"}), {"*": "DEVIATION"},
                     "without 'data: [DONE]'"),
    "stream.include_usage": (lambda r: Reply(200, raw=sse(stream_of(r)), cut_at=150,
                                             headers={"content-type": "text/event-stream"}), {"*": "ERROR"},
                             "no complete response: RemoteProtocolError"),
    "tools.stream": (lambda r: Reply(200, raw=sse([stream_of(r)[0], "{not json"]),
                                     headers={"content-type": "text/event-stream"}), {"*": "FAIL"}, "not JSON"),
    "tools.auto": (lambda r: Reply(200, r.body, stall_s=3), {"*": "ERROR"}, "no complete response"),
    "tools.none": (lambda r: Reply(429, {"error": {"message": "slow down", "type": "rate_limit", "param": None,
                                                   "code": None}}, headers={"retry-after": "0"}),
                   {"*": "ERROR"}, "rate limited"),
    "tools.required": (lambda r: Reply(429, {"error": {"message": "quota", "type": "rate_limit", "param": None,
                                                       "code": None}}), {"*": "ERROR"}, "rate limited"),
    "tools.named": (lambda r: Reply(500, {"error": {"message": "boom", "type": "server_error", "param": None,
                                                    "code": None}}), {"*": "ERROR"}, "HTTP 500"),
    "tools.parallel": (lambda r: Reply(503, raw=b"Service Unavailable", headers={"retry-after": "0",
                                                                                 "content-type": "text/plain"}),
                       {"*": "ERROR"}, "HTTP 503"),
    "tools.result_round_trip": (lambda r: Reply(200, raw=json.dumps(r.body).encode(),
                                                headers={"content-type": "text/plain"}),
                                # the Node.js SDK then returns the body as text: no choices for the application
                                {"*": "DEVIATION", "node-sdk": "FAIL"}, "Content-Type"),
    "n.two": (lambda r: _huge(r), {"*": "PASS"}, ""),
    "embeddings.batch": (lambda r: Reply(200, raw=b"this is not gzip at all",
                                         headers={"content-encoding": "gzip"}), {"*": "ERROR"},
                         "DecodingError"),
    "embeddings.single": (lambda r: Reply(200, raw=gzip.compress(json.dumps(r.body).encode()),
                                          headers={"content-encoding": "gzip"}), {"*": "PASS"}, ""),
}


def _huge(reply: Reply) -> Reply:
    for choice in reply.body["choices"]:
        choice["message"]["content"] = "x" * (5 * 1024 * 1024)  # two choices: a 10 MB body
    return reply


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.conftest import CANARY_KEY
    need_every_surface()

    tmp = tmp_path_factory.mktemp("faults")

    def inject(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        for case_id, (fault, _, _) in FAULTS.items():
            if _matches(case_id, path, request):
                return fault(reply)
        return reply

    with running(CANARY_KEY) as server:
        server.mutations.append(inject)
        result = conformance(*run_args(server.base_url, tmp, "once"), "--timeout", "1", "--retries", "2",
                             "--retry-budget", "2", "-k", " or ".join(FAULTS), key=CANARY_KEY)
    report = json.loads((tmp / "rep" / "report.json").read_text())
    return {"result": result, "report": report, "tmp": tmp}


def _matches(case_id: str, path: str, request: dict[str, Any]) -> bool:
    from conformance.catalogue import case_by_id
    from conformance.run.profiles import load_profile

    case = case_by_id(case_id)
    body = case.request_body(load_profile("tests/standin/standin.toml"))
    return path.endswith(case.endpoint) and body == request


def test_the_run_completes_and_writes_its_report(fault_run: dict[str, Any]) -> None:
    assert fault_run["result"].returncode == 1, fault_run["result"].stderr[-2000:]
    assert "Traceback" not in fault_run["result"].stdout + fault_run["result"].stderr
    assert len(fault_run["report"]["results"]) == len(SURFACES) * len(FAULTS)


@pytest.mark.parametrize("case_id", list(FAULTS))
def test_fault_gets_its_documented_verdict_and_reason(fault_run: dict[str, Any], case_id: str) -> None:
    _, verdicts, words = FAULTS[case_id]
    for result in (r for r in fault_run["report"]["results"] if r["case"] == case_id):
        expected = verdicts.get(result["surface"], verdicts["*"])
        assert result["verdict"] == expected, (result["surface"], result["reason"])
        text = result["reason"] + " ".join(f["message"] for f in result["findings"])
        assert words in text, (result["surface"], text[:300])
        assert "\n" not in result["reason"].strip() or expected != "ERROR"


def test_rate_limit_was_retried_and_says_so(fault_run: dict[str, Any]) -> None:
    limited = [r for r in fault_run["report"]["results"] if r["case"] == "tools.none"]
    assert all("after 3 attempts" in r["reason"] for r in limited), [r["reason"] for r in limited]


def test_retry_budget_bounds_the_waiting(fault_run: dict[str, Any]) -> None:
    # No Retry-After: backoff 1 s, then 2 s would pass the 2 s budget, so one retry only.
    limited = [r for r in fault_run["report"]["results"] if r["case"] == "tools.required"]
    assert all("after 2 attempts" in r["reason"] for r in limited), [r["reason"] for r in limited]


def test_huge_body_is_truncated_in_the_report(fault_run: dict[str, Any]) -> None:
    result = next(r for r in fault_run["report"]["results"] if r["case"] == "n.two")
    assert "more characters in the cassette" in result["exchange"]["response_body"]
    assert len(json.dumps(fault_run["report"])) < 2_000_000


def test_replay_of_the_faults_gives_the_same_verdicts(fault_run: dict[str, Any]) -> None:
    tmp: Path = fault_run["tmp"]
    replay = conformance(*run_args("http://127.0.0.1:9/v1/", tmp, "none", "replay"), "--timeout", "1",
                         "-k", " or ".join(FAULTS))
    replay_report = json.loads((tmp / "replay" / "report.json").read_text())
    assert replay.returncode == run_exit_code(replay_report), replay.stderr[-1000:]
    replayed = replay_report["results"]
    live = {(r["case"], r["surface"]): r["verdict"] for r in fault_run["report"]["results"]}
    again = {(r["case"], r["surface"]): r["verdict"] for r in replayed}
    differing = {k: (live[k], again.get(k)) for k in live if again.get(k) != live[k]}
    # A stall and a cut connection are not recordable as such: replay shows what could be recorded.
    assert set(differing) <= {(c, s) for c in ("tools.auto", "stream.include_usage", "embeddings.batch")
                              for s in SURFACES}, differing
