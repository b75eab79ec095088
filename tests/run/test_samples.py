"""Repeated samples (--repeat K): the statistics, how samples fold into one result, and the rate-judging gate.

Everything served here is SYNTHETIC (tests/standin).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.model.findings import Finding, Severity
from conformance.model.samples import Sample, combine
from conformance.model.stats import fisher_less, holm, wilson
from conformance.model.verdicts import Verdict
from conformance.report.diff import REGRESSION, UNCHANGED, diff_reports

# --- statistics ----------------------------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Newcombe (1998), table I: 0/10 -> 0.0000-0.2775; 1/10 -> 0.0179-0.4042 (95 %).
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(1, 10)
    assert (low, high) == (pytest.approx(0.0179, abs=1e-4), pytest.approx(0.4042, abs=1e-4))
    assert wilson(5, 5)[1] == 1.0 and wilson(5, 5)[0] < 1.0  # never an empty interval at K/K


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 7), st.integers(1, 7), st.integers(0, 7), st.integers(1, 7))
def test_fisher_equals_enumerating_every_table_with_the_same_margins(pa: int, na: int, pb: int, nb: int) -> None:
    pa, pb = min(pa, na), min(pb, nb)
    passes, total = pa + pb, na + nb
    # Brute force: every way to pick which of the total trials are B's, counting tables as extreme as the one seen.
    trials = [1] * passes + [0] * (total - passes)
    extreme = sum(1 for chosen in itertools.combinations(range(total), nb) if sum(trials[i] for i in chosen) <= pb)
    assert fisher_less(pa, na, pb, nb) == pytest.approx(extreme / math.comb(total, nb))


def test_fisher_known_values() -> None:
    assert fisher_less(5, 5, 0, 5) == pytest.approx(1 / 252)
    assert fisher_less(1, 1, 0, 1) == pytest.approx(0.5)  # one sample each can never be significant
    assert fisher_less(5, 5, 5, 5) == pytest.approx(1.0)


def test_holm_keeps_the_family_wise_level() -> None:
    assert holm([0.004, 0.5]) == [True, False]  # 0.004 < 0.01 / 2
    assert holm([0.006, 0.5]) == [False, False]  # 0.006 >= 0.01 / 2: alone it would pass, among two it does not
    assert holm([0.001, 0.004, 0.009]) == [True, True, True]  # step-down: 0.003, 0.005, 0.01
    assert holm([]) == []


# --- folding samples ----------------------------------------------------------------------------------------------

def behaviour(pointer: str = "/choices/0/message/content") -> Finding:
    return Finding("chat.message.content", pointer, "no text", Severity.FAILURE, nature="behaviour")


def contract() -> Finding:
    return Finding("chat.usage.total", "/usage/total_tokens", "does not add up", Severity.DEVIATION)


def ok() -> Sample:
    return Sample(Verdict.PASS, "", [])


def failed(*findings: Finding) -> Sample:
    severe = any(f.severity is Severity.FAILURE for f in findings)
    return Sample(Verdict.FAIL if severe else Verdict.DEVIATION, findings[0].message, list(findings))


def test_one_sample_is_judged_as_before() -> None:
    combined = combine([failed(behaviour())], ["chat.message.content"])
    assert combined.verdict is Verdict.FAIL and combined.reason == "no text"
    assert combined.findings[0].samples is None
    assert combined.expectations["chat.message.content"]["passed"] == 0


def test_a_behaviour_that_holds_on_some_samples_is_flaky_with_its_rate() -> None:
    combined = combine([ok(), failed(behaviour()), ok(), failed(behaviour()), ok()], ["chat.message.content"])
    assert combined.verdict is Verdict.FLAKY
    assert "held on 3/5" in combined.reason
    assert combined.findings[0].samples == (2, 4)
    assert combined.decisive == 1  # the report shows an exchange that has the finding
    rate = combined.expectations["chat.message.content"]
    assert (rate["passed"], rate["samples"], rate["nature"]) == (3, 5, "behaviour")
    assert rate["wilson95"][0] < 0.6 < rate["wilson95"][1]


def test_a_behaviour_failing_on_every_sample_is_a_steady_fail() -> None:
    combined = combine([failed(behaviour())] * 3, ["chat.message.content"])
    assert combined.verdict is Verdict.FAIL and combined.findings[0].samples is None


def test_contract_findings_count_on_any_sample_and_say_which() -> None:
    severe_contract = Finding("chat.choices.count", "/choices", "asked for n=2, got 1", Severity.FAILURE)
    combined = combine([ok(), ok(), failed(severe_contract)], [])
    assert combined.verdict is Verdict.FAIL and "(on 1 of 3 samples)" in combined.reason
    assert combined.findings[0].samples == (3,)
    assert combine([ok(), failed(contract())], []).verdict is Verdict.DEVIATION


def test_a_sample_without_an_answer_decides_and_counts_for_no_rate() -> None:
    error = Sample(Verdict.ERROR, "server error HTTP 500", [])
    combined = combine([ok(), error, failed(behaviour())], ["chat.message.content"])
    assert combined.verdict is Verdict.ERROR and combined.reason.endswith("(on 1 of 3 samples)")
    assert combined.decisive == 1
    assert combined.expectations["chat.message.content"] == {
        "nature": "behaviour", "passed": 1, "samples": 2, "wilson95": [round(v, 3) for v in wilson(1, 2)]}


# --- the gate -----------------------------------------------------------------------------------------------------

def result(surface: str, passed: int, samples: int, *, findings: list[dict[str, Any]] | None = None,
           verdict: str | None = None) -> dict[str, Any]:
    if verdict is None:
        verdict = "PASS" if passed == samples else ("FLAKY" if passed else "FAIL")
    return {"case": "tools.auto", "surface": surface, "verdict": verdict, "samples": samples,
            "findings": findings or [], "expectations": {"tools.auto.called": {
                "nature": "behaviour", "passed": passed, "samples": samples, "wilson95": [0, 1]}}}


def report(*results: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "results": list(results)}


SURFACES = ("python-sdk", "rest", "node-sdk", "curl")


def test_a_real_drop_in_a_behaviour_rate_is_a_regression_with_its_numbers() -> None:
    before = report(*(result(s, 5, 5) for s in SURFACES))
    after = report(*(result(s, p, 5) for s, p in zip(SURFACES, (2, 3, 2, 3), strict=True)))
    changes = diff_reports(before, after)
    pooled = [c for c in changes if c.surface == "*"]
    assert [(c.kind, c.before, c.after, c.test) for c in pooled] == [(REGRESSION, "20/20", "10/20", "fisher")]
    assert "Fisher" in pooled[0].note and "Holm" in pooled[0].note
    # The per-surface rows judge the contract only: PASS -> FLAKY there is not a regression on its own.
    assert all(c.kind == UNCHANGED and c.test == "contract" for c in changes if c.surface != "*")


def test_chance_variation_of_a_rate_is_not_a_regression() -> None:
    before = report(*(result(s, p, 5) for s, p in zip(SURFACES, (3, 2, 3, 2), strict=True)))
    after = report(*(result(s, p, 5) for s, p in zip(SURFACES, (1, 2, 2, 2), strict=True)))
    assert all(c.kind == UNCHANGED for c in diff_reports(before, after))


def test_a_contract_finding_on_one_sample_is_a_regression_even_when_sampled() -> None:
    new = {"check": "chat.usage.total", "pointer": "/usage/total_tokens", "nature": "contract", "samples": [4],
           "severity": "deviation", "message": "x"}
    before = report(result("rest", 5, 5))
    after = report(result("rest", 5, 5, findings=[new], verdict="DEVIATION"))
    change = next(c for c in diff_reports(before, after) if c.surface == "rest")
    assert change.kind == REGRESSION and change.new_findings == ["chat.usage.total /usage/total_tokens"]


def test_single_samples_are_compared_strictly() -> None:
    finding = {"check": "tools.auto.called", "pointer": "/choices/0/message/tool_calls", "nature": "behaviour",
               "severity": "failure", "message": "x"}
    before = report(result("rest", 1, 1))
    after = report(result("rest", 0, 1, findings=[finding]))
    changes = diff_reports(before, after)
    assert [(c.kind, c.test) for c in changes] == [(REGRESSION, "strict")]


# --- pacing and the estimate --------------------------------------------------------------------------------------

def test_paced_slots_are_spaced_across_callers(tmp_path: Path) -> None:
    from conformance.wire.pacing import take_slot

    slots = tmp_path / "pace"
    waits = [take_slot(slots, rpm=30, now=1000.0) for _ in range(3)]
    assert waits == [0.0, 2.0, 4.0]
    assert take_slot(slots, rpm=30, now=1010.0) == 0.0  # a slot long past is free at once
    slots.write_text(str(10 ** 9))  # a stale or corrupt file never stalls a run for long
    assert take_slot(slots, rpm=30, now=1100.0) == 0.0


def test_the_estimate_counts_samples_and_states_the_pace() -> None:
    from conformance.commands.plan import request_estimate
    from conformance.run.settings import resolve

    settings = resolve({"target": "gemini", "repeat": 5}, "once")
    pairs = [(f"chat.case{n}", surface) for n in range(29) for surface in ("a", "b", "c", "d")]
    text = request_estimate(pairs, settings)
    assert text.startswith("145 distinct request(s) (29 case(s) x steps x 5 sample(s); the 116 case x surface runs "
                           "share each answer, 580 without sharing")
    assert "at 10 per minute" in text and "rate-limits" in text and "about 14 min" in text
    unshared = resolve({"target": "gemini", "repeat": 5}, "once", share=False)
    assert request_estimate(pairs, unshared).startswith("580 request(s) (116 case x surface x steps x 5 sample(s)")
    assert "about 58 min" in request_estimate(pairs, unshared)
    unpaced = resolve({"target": "gemini", "rpm": 0}, "once")
    assert "unpaced" in request_estimate(pairs[:10], unpaced)
    flows = request_estimate([("flow.tool_loop", "rest"), ("flow.tool_loop", "curl"), ("chat.system_user", "rest")],
                             unpaced)
    assert flows.startswith("3 distinct request(s) (2 case(s) x steps x 1 sample(s); the 3 case x surface runs share "
                            "each answer, 5 without sharing")


# --- end to end: record K samples, replay them in order ------------------------------------------------------------

def test_repeat_records_every_sample_and_replays_them_in_order(tmp_path: Path) -> None:
    from tests.conftest import CANARY_KEY
    from tests.run.test_end_to_end import PROFILE, conformance
    from tests.standin.server import Reply, running

    answered = {"count": 0}

    def sometimes_silent(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.endswith("chat/completions") and not request.get("stream") and isinstance(reply.body, dict):
            answered["count"] += 1
            if answered["count"] % 2 == 0:  # every second answer says nothing: a model that sometimes stays silent
                reply.body["choices"][0]["message"]["content"] = ""
        return reply

    args = ["run", "--target", PROFILE, "--surfaces", "python-sdk,rest", "-k", "chat.system_user or embeddings.single",
            "--cassette-dir", str(tmp_path / "cassettes")]
    with running(CANARY_KEY) as server:
        server.mutations.append(sometimes_silent)
        live = conformance(*args, "--base-url", server.base_url, "--record-mode", "once", "--repeat", "4",
                           "--report-dir", str(tmp_path / "live"), key=CANARY_KEY)
    assert "8 distinct request(s) (2 case(s) x steps x 4 sample(s); the 4 case x surface runs share each answer, 16 " \
        "without sharing" in live.stderr, live.stderr
    replay = conformance(*args, "--base-url", "http://127.0.0.1:9/v1/", "--report-dir", str(tmp_path / "replay"))
    assert replay.returncode == 0, replay.stderr + replay.stdout
    live_report = json.loads((tmp_path / "live" / "report.json").read_text())
    replayed = json.loads((tmp_path / "replay" / "report.json").read_text())
    for report_ in (live_report, replayed):
        assert {r["samples"] for r in report_["results"]} == {4}
        chat = {r["surface"]: r for r in report_["results"] if r["case"] == "chat.system_user"}
        assert {r["verdict"] for r in chat.values()} == {"FLAKY"}
        assert {r["expectations"]["chat.message.content"]["passed"] for r in chat.values()} == {2}
    assert [(r["verdict"], r["findings"]) for r in live_report["results"]] == \
        [(r["verdict"], r["findings"]) for r in replayed["results"]]
    cassette = (tmp_path / "cassettes" / "rest" / "chat.system_user.yaml").read_text()
    assert cassette.count("\n- request:") == 4 and "repeat: 4" in cassette


def test_a_behaviour_failing_on_every_sample_at_different_steps_is_a_fail_with_a_reason() -> None:
    from conformance.model.findings import Finding, Severity
    from conformance.model.samples import Sample, combine
    from conformance.model.verdicts import Verdict

    def miss(step: int, samples: tuple[int, ...]) -> Finding:
        return Finding("chat.message.content", "/choices/0/message/content", "no text", Severity.FAILURE,
                       nature="behaviour", step=step, samples=samples)

    # Step 1 was silent on samples 1 and 3, step 2 on 2, 4 and 5: every sample failed somewhere.
    runs = [Sample(Verdict.FAIL, "", [miss(1 if n in (1, 3) else 2, (n,))]) for n in range(1, 6)]
    combined = combine(runs, ["chat.message.content"])
    assert combined.verdict is Verdict.FAIL
    assert combined.reason.startswith("chat.message.content failed on every sample, at different places")
