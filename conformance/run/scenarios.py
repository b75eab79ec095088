"""What one sample of a case is: a single exchange, a conversation or a lifecycle, behind one interface.

The case chooses its scenario (``scenario_for``); the runner keeps the sample loop, the combining of samples and
everything that follows the judging, whatever the scenario. Each scenario sends through ``conformance.run.sending`` and
judges each answer with ``conformance.judge.analysis.judge``, so a conversation's step or a lifecycle's step is
judged as
a single exchange is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from conformance.api.batches.lifecycle import run_batch
from conformance.catalogue.model import Case
from conformance.judge.analysis import judge
from conformance.model.expectations import Expectations
from conformance.model.samples import Sample
from conformance.run.flow_runner import run_flow
from conformance.run.sending import run_with_retries, sent_request
from conformance.run.settings import Settings
from conformance.surfaces import RunEnv, Surface, SurfaceOutcome


@dataclass
class Played:
    """One sample of a scenario: its judged sample, the decisive exchange's outcome and request, and (for a
    conversation or a lifecycle) every step's exchange in order, for the report."""

    sample: Sample
    outcome: SurfaceOutcome
    request: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)


class Scenario(Protocol):
    def play(self, case: Case, surface: Surface, env: RunEnv, settings: Settings, expect: Expectations,
             cassette: Path) -> Played:
        """Send and judge one sample of ``case`` on ``surface``."""


class SingleExchange:
    """One request, retried on 429/503 as the settings allow, and its answer judged."""

    def play(self, case: Case, surface: Surface, env: RunEnv, settings: Settings, expect: Expectations,
             cassette: Path) -> Played:
        settings.pace()
        outcome, statuses = run_with_retries(surface, case, env, settings)
        request = sent_request(outcome, case.request_body(settings.profile))
        verdict, reason, findings = judge(case, outcome, request, expect, settings.checks)
        if statuses:
            reason += f" (after {len(statuses) + 1} attempts; retried on HTTP {', '.join(map(str, statuses))})"
        return Played(Sample(verdict, reason, findings), outcome, request)


class Conversation:
    """A conversation's steps (conformance/run/flow_runner.py): each next request built from the client's reading."""

    def play(self, case: Case, surface: Surface, env: RunEnv, settings: Settings, expect: Expectations,
             cassette: Path) -> Played:
        sample, outcome, request, steps = run_flow(case, surface, env, settings, expect, cassette)
        return Played(sample, outcome, request, steps)


class Lifecycle:
    """A Batch API lifecycle (conformance/api/batches/lifecycle.py): upload, create, poll, read, delete."""

    def play(self, case: Case, surface: Surface, env: RunEnv, settings: Settings, expect: Expectations,
             cassette: Path) -> Played:
        sample, outcome, request, steps = run_batch(case, surface, env, settings, cassette)
        return Played(sample, outcome, request, steps)


def scenario_for(case: Case) -> Scenario:
    """The scenario a case is: a lifecycle when it carries a batch, a conversation when it has steps."""
    if case.is_batch:
        return Lifecycle()
    if case.is_flow:
        return Conversation()
    return SingleExchange()
