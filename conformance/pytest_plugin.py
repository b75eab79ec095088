"""The pytest plugin: options, the run's settings as a fixture, and the report written at the end of a session.

Results travel as JSON in each test report's ``user_properties``, so the controller of a ``pytest -n`` run sees
every worker's results and writes one report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.interrupt import stop_on_sigterm

if TYPE_CHECKING:
    from conformance.settings import Settings

# Imports of the package proper happen inside the hooks: this plugin is loaded by every pytest run in the
# environment, and must stay cheap (and must not import vcrpy before pytest-recording registers it).

# A test's result travels on its report as JSON (xdist ships report attributes from workers to the controller).
RESULT_ATTRIBUTE = "conformance_result"
RESULT_KEY = pytest.StashKey[str]()
_settings_key = pytest.StashKey["Settings"]()
_started_key = pytest.StashKey[str]()
_expected_key = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "OpenAI-compatibility conformance")
    group.addoption("--conformance-target", default=None,
                    help="built-in target (gemini, openai, llamacpp) or a profile .toml file [default: gemini]")
    group.addoption("--conformance-base-url", default=None, help="override the target's base URL")
    group.addoption("--conformance-api-key-env", default=None, help="environment variable holding the API key")
    group.addoption("--conformance-chat-model", default=None, help="override the chat model")
    group.addoption("--conformance-embedding-model", default=None, help="override the embedding model")
    group.addoption("--conformance-surfaces", default=None, help="comma-separated surfaces to run [default: all]")
    group.addoption("--conformance-cassette-dir", default=None, help="cassette folder [default: cassettes/<target>]")
    group.addoption("--conformance-report-dir", default=None, help="report folder [default: reports/<target>]")
    group.addoption("--conformance-timeout", type=float, default=60.0, help="per-request timeout in seconds")
    group.addoption("--conformance-no-report", action="store_true", help="do not write report files")
    group.addoption("--conformance-retries", type=int, default=3,
                    help="extra attempts after HTTP 429/503, with exponential backoff honouring Retry-After")
    group.addoption("--conformance-retry-budget", type=float, default=60.0,
                    help="seconds a case may spend waiting between attempts in all")
    group.addoption("--conformance-cases-dir", default=None,
                    help="a folder of saved cases (JSON) to run beside the catalogue, e.g. shrunk fuzz failures")
    group.addoption("--conformance-fresh", action="store_true",
                    help="re-record: ignore existing cassettes, replace each one only once it is recorded whole")
    group.addoption("--conformance-gaps", default=None,
                    help="known-gaps manifest (.toml) [default: the target's built-in one; 'none' to disable]")


def build_settings(config: pytest.Config) -> Settings:
    from conformance.gaps import load_manifest, manifest_path
    from conformance.profiles import load_profile
    from conformance.settings import Settings, default_dir, parse_surfaces

    option = config.getoption
    profile = load_profile(
        option("--conformance-target"),
        base_url=option("--conformance-base-url"),
        api_key_env=option("--conformance-api-key-env"),
        chat_model=option("--conformance-chat-model"),
        embedding_model=option("--conformance-embedding-model"),
    )
    cassette_dir = option("--conformance-cassette-dir")
    report_dir = option("--conformance-report-dir")
    return Settings(
        profile=profile,
        record_mode=option("--record-mode") or "none",
        cassette_dir=Path(cassette_dir) if cassette_dir else default_dir("cassettes", profile.name),
        report_dir=Path(report_dir) if report_dir else default_dir("reports", profile.name),
        surfaces=parse_surfaces(option("--conformance-surfaces")),
        timeout_s=option("--conformance-timeout"),
        retries=max(0, option("--conformance-retries")),
        retry_budget_s=max(0.0, option("--conformance-retry-budget")),
        gaps=load_manifest(_gaps_path(option("--conformance-gaps"), profile.name, manifest_path)),
    )


def _gaps_path(value: str | None, target: str, builtin: Any) -> Any:
    if value == "none":
        return None
    return value or builtin(target)


def settings_for(config: pytest.Config) -> Settings:
    from conformance.errors import UsageError

    if _settings_key not in config.stash:
        try:
            config.stash[_settings_key] = build_settings(config)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config.stash[_settings_key]


def is_catalogue_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("conformance_case") is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance_case: a catalogue case run against the target")
    config.pluginmanager.register(ResultCollector(config), "conformance-results")
    stop_on_sigterm()


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    from conformance.cassettes import ConformancePersister

    ConformancePersister.frozen = True  # the test that was cut off must not replace its cassette


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(is_catalogue_item(item) for item in items):
        return
    from conformance.cassettes import ConformancePersister, now_iso
    from conformance.settings import missing_key_message

    settings = settings_for(config)
    if settings.recording and not settings.profile.api_key():
        raise pytest.UsageError(missing_key_message(settings.profile, settings.record_mode))
    ConformancePersister.ignore_existing = bool(config.getoption("--conformance-fresh"))
    ConformancePersister.frozen = False
    ConformancePersister.provenance = {
        "target": settings.profile.name,
        "base_url": settings.profile.base_url,
        "chat_model": settings.profile.chat_model,
        "embedding_model": settings.profile.embedding_model,
    }
    config.stash[_started_key] = now_iso()
    selected = set(settings.surfaces)
    kept = [i for i in items if not is_catalogue_item(i) or i.callspec.params.get("surface") in selected]
    deselected = [i for i in items if i not in kept]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    check_cassettes(settings, [i for i in items if is_catalogue_item(i)], fresh=ConformancePersister.ignore_existing)


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_expected_key] = sum(1 for i in session.items if is_catalogue_item(i))


def check_cassettes(settings: Settings, items: list[pytest.Item], *, fresh: bool) -> None:
    """Before anything runs: the cassette folder is usable, and no cassette about to be read is corrupt or leaky."""
    from conformance.cassettes import cassette_path, check_cassette
    from conformance.errors import UsageError

    folder = settings.cassette_dir
    if folder.exists() and not folder.is_dir():
        raise pytest.UsageError(f"cassette folder {folder} is a file: give a folder with --cassette-dir")
    if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
        raise pytest.UsageError(f"cassette folder {folder} is not readable: fix its permissions")
    if fresh or settings.record_mode in ("all", "rewrite"):
        return
    for item in items:
        path = cassette_path(folder, item.callspec.params["surface"], item.callspec.params["case"].id)
        if path.is_file():
            try:
                check_cassette(path)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from conformance.cassettes import ConformancePersister, json_body_matcher

    vcr.register_matcher("json_body", json_body_matcher)
    vcr.register_persister(ConformancePersister)


@pytest.fixture(scope="session")
def conformance_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved target, record mode and folders of this run (override to run the catalogue elsewhere)."""
    return settings_for(pytestconfig)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "call" and RESULT_KEY in item.stash:
        setattr(report, RESULT_ATTRIBUTE, item.stash[RESULT_KEY])
    return report


class ResultCollector:
    """Gathers each catalogue test's result (on the controller, under xdist) and writes the report at the end.

    An interrupted session writes nothing: the previous report stays whole, and the terminal says what did
    not finish.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        value = getattr(report, RESULT_ATTRIBUTE, None)
        if report.when == "call" and value:
            self.results.append(json.loads(value))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        config = self.config
        if hasattr(config, "workerinput") or not self.results or config.getoption("--conformance-no-report"):
            return
        from conformance.report.build import build_report
        from conformance.report.write import write_reports

        settings = settings_for(config)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            expected = config.stash.get(_expected_key, 0)
            if reporter is not None:
                reporter.write_line(
                    f"conformance: interrupted after {len(self.results)} of {expected} case(s); "
                    f"{expected - len(self.results)} not finished. The previous report in {settings.report_dir} "
                    "and the cassettes of unfinished cases are unchanged.")
            return
        report = build_report(self.results, settings, started=config.stash.get(_started_key, None))
        paths = write_reports(report, settings.report_dir)
        if reporter is not None:
            summary = ", ".join(f"{k} {v}" for k, v in report["summary"].items() if v)
            reporter.write_line(f"conformance: {summary}")
            reporter.write_line(f"conformance report: {', '.join(str(p) for p in paths)}")
