"""Opt-in live fuzzing: hypothesis draws valid combinations of documented request parameters, every answer must
pass the same checks, and a failure is shrunk to a minimal request and saved as a replayable case.

Each drawn request is sent live (recording into a scratch folder); the minimal failing one is saved as
``<cases-dir>/<id>.json`` with its cassettes copied into the target's cassette folder, so that
``conformance run --cases-dir ...`` replays it offline like any catalogue case.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from conformance.cassettes import Recording, cassette_name, cassette_path, new_recorder, vcr_config
from conformance.catalogue.cases import GET_TIME, GET_WEATHER, OPENAI_CHAT, OPENAI_EMBEDDINGS, WEATHER_QUESTION
from conformance.catalogue.model import CHAT_MODEL, EMBEDDING_MODEL, Case
from conformance.catalogue.saved import save_case
from conformance.judge.analysis import CaseResult
from conformance.model.verdicts import Verdict
from conformance.run.runner import run_case
from conformance.run.settings import Settings

MESSAGES = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Explain to me how AI works"}]


def tool_choices() -> st.SearchStrategy[Any]:
    return st.sampled_from(["auto", "none", "required", {"type": "function", "function": {"name": "get_weather"}}])


def chat_bodies() -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "temperature": st.floats(0, 2, allow_nan=False).map(lambda v: round(v, 2)),
        "top_p": st.floats(0.01, 1, allow_nan=False).map(lambda v: round(v, 2)),
        "max_tokens": st.integers(1, 64),
        "stop": st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,", min_size=1, max_size=3), min_size=1,
                         max_size=4, unique=True),
        "n": st.integers(1, 3),
        "stream": st.just(True),
        "seed": st.integers(0, 2**31 - 1),
    }
    plain = st.fixed_dictionaries({"model": st.just(CHAT_MODEL), "messages": st.just(MESSAGES)}, optional=optional)
    tools = st.fixed_dictionaries(
        {"model": st.just(CHAT_MODEL), "messages": st.just(WEATHER_QUESTION),
         "tools": st.just([GET_WEATHER, GET_TIME]), "tool_choice": tool_choices()},
        optional={k: optional[k] for k in ("temperature", "stream", "max_tokens")})
    return st.one_of(plain, tools).map(_with_stream_options)


def _with_stream_options(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("stream") and body.get("n", 1) > 1:
        body = {k: v for k, v in body.items() if k != "n"}  # OpenAI streams one choice per chunk either way
    return body


def embedding_bodies() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"model": st.just(EMBEDDING_MODEL),
         "input": st.one_of(st.text(min_size=1, max_size=30),
                            st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3))},
        optional={"dimensions": st.integers(8, 64), "encoding_format": st.sampled_from(["float", "base64"])})


def requests() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.one_of(st.tuples(st.just("chat/completions"), chat_bodies()),
                     st.tuples(st.just("embeddings"), embedding_bodies()))


def case_for(endpoint: str, body: dict[str, Any]) -> Case:
    digest = hashlib.sha256(json.dumps([endpoint, body], sort_keys=True).encode()).hexdigest()[:10]
    section = OPENAI_EMBEDDINGS if endpoint == "embeddings" else OPENAI_CHAT
    title = f"Fuzzed {endpoint} request: " + ", ".join(sorted(k for k in body if k not in ("model", "messages")))
    return Case(f"fuzz.{digest}", "Fuzzed requests", title, section, endpoint, body)


@dataclass
class FuzzOutcome:
    tried: int = 0
    failing: Case | None = None
    result: CaseResult | None = None
    saved: list[Path] = field(default_factory=list)


def fuzz(settings_: Settings, examples: int, surface: str, cases_dir: Path, seed: int | None = None) -> FuzzOutcome:
    outcome = FuzzOutcome()
    results: dict[str, CaseResult] = {}
    scratch = Path(tempfile.mkdtemp(prefix="conformance-fuzz-"))
    live = _scratch_settings(settings_, scratch)

    def fails(item: tuple[str, dict[str, Any]]) -> bool:
        case = case_for(*item)
        if case.id not in results:
            outcome.tried += 1
            results[case.id] = _record(case, surface, live)
        result = results[case.id]
        return (result.gated_verdict or result.verdict) in (Verdict.FAIL, Verdict.ERROR) or any(
            not f.known_gap for f in result.findings)

    try:
        item = find(requests(), fails, settings=settings(max_examples=examples, database=None, deadline=None,
                                                         suppress_health_check=list(HealthCheck)),
                    random=random.Random(seed) if seed is not None else None)
    except NoSuchExample:
        shutil.rmtree(scratch, ignore_errors=True)
        return outcome
    outcome.failing = case_for(*item)
    outcome.result = results[outcome.failing.id]
    result = outcome.result
    outcome.saved.append(save_case(outcome.failing, cases_dir, found={
        "verdict": result.verdict.value, "reason": result.reason,
        "findings": [f"{f.check} {f.pointer or '/'}" for f in result.findings if not f.known_gap]}))
    source = cassette_path(scratch, surface, outcome.failing.id)
    if source.is_file():
        target = cassette_path(settings_.cassette_dir, surface, outcome.failing.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        outcome.saved.append(target)
    shutil.rmtree(scratch, ignore_errors=True)
    return outcome


def _scratch_settings(base: Settings, scratch: Path) -> Settings:
    from dataclasses import replace

    return replace(base, cassette_dir=scratch, record_mode="once")


def _record(case: Case, surface: str, live: Settings) -> CaseResult:
    recording = Recording(root=live.cassette_dir, scrubber=live.scrubber,
                          provenance={"target": live.profile.name, "base_url": live.profile.base_url, "via": "fuzz"})
    recorder = new_recorder(recording, "once")
    with recorder.use_cassette(cassette_name(surface, case.id), **vcr_config(live.scrubber)):
        return run_case(case, surface, live)
