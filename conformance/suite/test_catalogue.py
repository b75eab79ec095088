"""Every catalogue case on every client surface, recorded to or replayed from a cassette.

The fixtures below override pytest-recording's, so that cassettes live under ``cassettes/<target>/<surface>/``
and are scrubbed and matched the same way for every surface.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance import cassettes
from conformance.catalogue import CASES, Case
from conformance.model.verdicts import Verdict
from conformance.pytest_plugin import RESULT_KEY
from conformance.run.runner import run_case
from conformance.run.settings import Settings
from conformance.surfaces import SURFACES

pytestmark = [pytest.mark.vcr, pytest.mark.conformance_case]


@pytest.fixture(scope="module")
def vcr_cassette_dir(conformance_settings: Settings) -> str:
    """Cassettes of the target under test."""
    return str(conformance_settings.cassette_dir)


@pytest.fixture
def vcr_config(conformance_settings: Settings) -> dict[str, Any]:
    """Scrubbing and request matching shared by all surfaces."""
    return cassettes.vcr_config(conformance_settings.scrubber)


@pytest.fixture
def default_cassette_name(case: Case, surface: str) -> str:
    """One cassette per case and surface."""
    return cassettes.cassette_name(surface, case.id)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every catalogue case, plus saved cases (e.g. shrunk fuzz failures) from --conformance-cases-dir."""
    from conformance.catalogue.saved import load_cases
    from conformance.model.errors import UsageError
    from conformance.run.config import from_pytest

    values = from_pytest(metafunc.config)
    try:
        extra = load_cases(values["cases_dir"])
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    from conformance.catalogue import select_tier
    from conformance.pytest_plugin import settings_for

    recording = (metafunc.config.getoption("--record-mode") or "none") != "none"
    cases = select_tier(CASES, values["catalogue"], recording,
                        settings_for(metafunc.config).profile.catalogue) + extra
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])
    metafunc.parametrize("surface", list(SURFACES))


def _key_refusal(case: Case, surface: str, result: Any, settings: Settings, config: pytest.Config) -> None:
    """A 401/403 to the run's own key is never kept as a recording: a replay would repeat it after the key is
    fixed. On the run's first answer it stops the run (exit 2, no report): the key is wrong, and every other case
    would say the same."""
    from conformance.pytest_plugin import key_refused, recording_for
    from conformance.run.preflight import refused_status

    recording = recording_for(config)
    status = refused_status(case, result)
    if status is None:
        recording.answered = True
        return
    recording.discard.add(cassettes.cassette_path(settings.cassette_dir, surface, case.id))
    result.reason = (f"{result.reason}; not recorded: HTTP {status} to the run's own key "
                     f"({settings.profile.api_key_env}) says the key was refused, not how the server behaves")
    if not recording.answered:
        recording.frozen = True
        key_refused(config, f"the server refused the key in {settings.profile.api_key_env} (HTTP {status} on "
                            f"{case.id}, the run's first request): nothing was recorded and no report written; "
                            "fix the key, then run again with:")


def test_case(case: Case, surface: str, conformance_settings: Settings, request: pytest.FixtureRequest) -> None:
    result = run_case(case, surface, conformance_settings)
    if conformance_settings.recording:
        _key_refusal(case, surface, result, conformance_settings, request.config)
    request.node.stash[RESULT_KEY] = json.dumps(result.to_dict())
    # What a CI system's JUnit view shows for this test case.
    request.node.user_properties.extend([
        ("case", case.id), ("surface", surface), ("verdict", result.verdict.value),
        ("gated_verdict", (result.gated_verdict or result.verdict).value),
        ("checks", ",".join(sorted({f.check for f in result.findings}))),
    ])
    # What JUnit files, pytest's output and CI views show: server text with every control and bidi character as a
    # visible escape, on one line.
    from conformance.output.console import visible

    message = visible(f"{result.verdict.value}: {result.reason}")
    if (result.gated_verdict or result.verdict).fails_run:
        pytest.fail(message, pytrace=False)
    if result.verdict in (Verdict.NOT_RECORDED, Verdict.NOT_RUN):
        pytest.skip(message)

