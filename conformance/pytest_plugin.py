"""The pytest plugin: options, the run's settings as a fixture, the cassette set-up, and the report at the end.

Each catalogue test's result travels as JSON on its test report (pytest-xdist ships report attributes from workers
to the controller), so the controller of a ``pytest -n`` run sees every worker's results and writes one report.
When the ``conformance`` CLI runs the catalogue, it registers a ``RunHandle`` that carries the settings it already
built and receives the finished report in process.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from conformance.run import interrupt, options
from conformance.run.config import from_pytest

if TYPE_CHECKING:
    from conformance.cassettes import Recording
    from conformance.judge.analysis import CaseResult
    from conformance.run.settings import Settings

# Imports of the package proper happen inside the hooks: this plugin is loaded by every pytest run in the
# environment, and must stay cheap (and must not import vcrpy before pytest-recording registers it).

RESULT_ATTRIBUTE = "conformance_result"
RESULT_KEY = pytest.StashKey[str]()
_settings_key = pytest.StashKey["Settings"]()
_recording_key = pytest.StashKey["Recording"]()
_refused_key = pytest.StashKey[str]()


def key_refused(config: pytest.Config, message: str) -> None:
    """Stop the run: its first answer refused the key (see suite/test_catalogue.py). No report is written."""
    config.stash[_refused_key] = message
    handle = handle_of(config)
    if handle is not None:
        handle.key_refused = message
    pytest.exit(message, returncode=2)


class RunHandle:
    """What the CLI hands to pytest (settings built once) and gets back (results, the report, files written)."""

    def __init__(self, settings: Settings, recording: Recording | None = None) -> None:
        self.settings = settings
        self.recording = recording  # checked by the CLI before the run (its cassettes already read)
        self.planned = 0
        self.expected = 0
        self.results: list[dict[str, Any]] = []
        self.report: dict[str, Any] | None = None
        self.written: list[Any] = []
        self.write_error: str | None = None
        self.interrupted = False
        self.deferred = 0  # case x surface runs left for the next run (the key's daily quota)
        self.key_refused: str | None = None  # the run's first answer refused its key: stopped, nothing written


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "OpenAI-compatibility conformance")
    options.add_pytest_options(group)
    group.addoption("--conformance-fresh", action="store_true",
                    help="re-record: ignore existing cassettes, replace each one only once it is recorded whole")
    group.addoption("--conformance-no-report", action="store_true", help="do not write report files")
    group.addoption("--conformance-no-share", action="store_true",
                    help="a live run sends every surface's request to the server (by default a request another "
                         "surface of the case already sent gets that answer)")


def handle_of(config: pytest.Config) -> RunHandle | None:
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, RunHandle)), None)


def settings_for(config: pytest.Config) -> Settings:
    from conformance.model.errors import UsageError
    from conformance.run.settings import resolve

    if _settings_key not in config.stash:
        handle = handle_of(config)
        if handle is not None:
            config.stash[_settings_key] = handle.settings
        else:
            try:
                config.stash[_settings_key] = resolve(from_pytest(config),
                                                      config.getoption("--record-mode") or "none",
                                                      fresh=bool(config.getoption("--conformance-fresh")),
                                                      share=not config.getoption("--conformance-no-share"))
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
    return config.stash[_settings_key]


def is_catalogue_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("conformance_case") is not None


def _params(item: pytest.Item) -> dict[str, Any]:
    """A catalogue test's parameters (its case and surface): catalogue tests are parametrized functions."""
    if not isinstance(item, pytest.Function):
        return {}
    params: dict[str, Any] = item.callspec.params
    return params


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance_case: a catalogue case run against the target")
    config.pluginmanager.register(ResultCollector(config), "conformance-results")
    interrupt.install()


def recording_for(config: pytest.Config) -> Recording:
    from conformance.cassettes import Recording

    handle = handle_of(config)
    if _recording_key not in config.stash and handle is not None and handle.recording is not None:
        config.stash[_recording_key] = handle.recording
    if _recording_key not in config.stash:
        settings = settings_for(config)
        config.stash[_recording_key] = Recording(
            root=settings.cassette_dir, scrubber=settings.scrubber, fresh=settings.fresh,
            provenance=settings.provenance(), sharing=settings.sharing)
    return config.stash[_recording_key]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(is_catalogue_item(item) for item in items):
        return
    from conformance.model.errors import UsageError
    from conformance.run.preflight import check_run
    from conformance.run.settings import missing_key_message

    settings = settings_for(config)
    if settings.recording and not settings.profile.api_key():
        raise pytest.UsageError(missing_key_message(settings.profile, settings.record_mode, settings.cassette_dir))
    selected = set(settings.surfaces)
    kept = [i for i in items if not is_catalogue_item(i) or _params(i).get("surface") in selected]
    deselected = [i for i in items if i not in kept]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    if handle_of(config) is not None:
        return  # the CLI checked every cassette of the run before starting pytest
    pairs = [(_params(i)["case"].id, _params(i)["surface"]) for i in items if is_catalogue_item(i)]
    try:
        check_run(settings, recording_for(config), pairs,
                  write_report=not config.getoption("--conformance-no-report"))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from conformance.cassettes import configure

    configure(vcr, recording_for(config))


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


_LETTERS = {"PASS": ".", "DEVIATION": "D", "UNSUPPORTED": "U", "FLAKY": "~", "FAIL": "F", "ERROR": "E",
            "NOT RECORDED": "n", "NOT RUN": "s"}


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """A catalogue test is counted by its verdict, so pytest's last line agrees with the matrix."""
    value = getattr(report, RESULT_ATTRIBUTE, None)
    if report.when != "call" or not value:
        return None
    result = json.loads(value)
    verdict, gated = result["verdict"], result.get("gated_verdict", result["verdict"])
    category = verdict if gated == verdict else f"{verdict} (known gap)"
    return category, _LETTERS.get(verdict, "?"), category


def split_nodeid(nodeid: str) -> tuple[str, str] | None:
    """(case id, surface) of a catalogue test's node id ``...::test_case[<case>-<surface>]``."""
    from conformance.surfaces import SURFACES

    if "::test_case[" not in nodeid or not nodeid.endswith("]"):
        return None
    params = nodeid.rsplit("::test_case[", 1)[1][:-1]
    for surface in SURFACES:
        if params.endswith("-" + surface):
            return params[: -len(surface) - 1], surface
    return None


def judged(results: list[dict[str, Any]]) -> bool:
    """Some result was judged from an exchange (not every one NOT RECORDED or NOT RUN)."""
    return any(r.get("verdict") not in ("NOT RECORDED", "NOT RUN") for r in results)


def report_at(folder: Any) -> dict[str, Any] | None:
    """The report.json in ``folder``, or None when there is none or it is not a report (read whole; a report is
    megabytes at most)."""
    from pathlib import Path

    try:
        data = json.loads((Path(folder) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("results"), list) else None


def judged_report_at(folder: Any) -> bool:
    """The folder holds a report.json with a judged result."""
    report = report_at(folder)
    return report is not None and judged([r for r in report["results"] if isinstance(r, dict)])


class ResultCollector:
    """Gathers each catalogue test's result (on the controller, under xdist) and writes the report at the end.

    A run never passes by losing cases: every catalogue test that was selected gets exactly one result, and a test
    that ended without one (a crash in set-up, a cassette that could not be saved, a worker that died) is an
    ERROR row saying why. An interrupted session writes nothing: the previous report stays whole.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, CaseResult] = {}  # typed from the runner to the report: restored from JSON here
        self.expected: list[str] = []
        self.problems: dict[str, str] = {}

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if _recording_key in self.config.stash:  # the test that was cut off must not replace its cassette
            self.config.stash[_recording_key].frozen = True

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.expected = [i.nodeid for i in session.items if is_catalogue_item(i)]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.expected:
            self.expected = [i for i in ids if split_nodeid(i) is not None]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        value = getattr(report, RESULT_ATTRIBUTE, None)
        if report.when == "call" and value:
            from conformance.judge.analysis import CaseResult

            self.results[report.nodeid] = CaseResult.from_dict(json.loads(value))
        elif report.failed and split_nodeid(report.nodeid) is not None:
            crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", None)
            message = str(getattr(report, "longreprtext", "") or report.longrepr or "").strip().splitlines()
            last = crash.split(": ", 1)[-1] if crash else (message[-1] if message else "no message")
            # A teardown that fails is the cassette being saved (pytest-recording's fixture): say so.
            what = ("the cassette could not be written" if report.when == "teardown"
                    else f"the test's {report.when} failed")
            self.problems.setdefault(report.nodeid, f"{what}: {last.removeprefix('E   ').strip()}"[:400])

    def complete_results(self) -> list[CaseResult]:
        """One result per selected test: the recorded one, made ERROR by a later failure, or an ERROR row."""
        from dataclasses import replace

        from conformance.judge.analysis import CaseResult
        from conformance.model.verdicts import Verdict
        from conformance.run.runner import error_result

        settings = settings_for(self.config)
        ordered = list(dict.fromkeys([*self.expected, *self.results]))
        complete = []
        for nodeid in ordered:
            result = self.results.get(nodeid)
            problem = self.problems.get(nodeid)
            if result is None:
                pair = split_nodeid(nodeid)
                if pair is None:
                    continue
                result = error_result(pair[0], pair[1], settings,
                                      problem or "the test ended without a verdict (its process stopped)")
            elif problem:
                result = replace(result, verdict=Verdict.ERROR, gated_verdict=Verdict.ERROR, reason=problem)
            complete.append(CaseResult.from_dict(settings.scrubber.deep(result.to_dict())))
        return complete

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        config = self.config
        if hasattr(config, "workerinput"):
            return
        handle = handle_of(config)
        stopped = exitstatus == pytest.ExitCode.INTERRUPTED or interrupt.interrupted()
        if _recording_key in config.stash and stopped:
            config.stash[_recording_key].frozen = True
        if not self.results and not self.problems:
            return  # no test ran (a pre-check stopped the run, or no case was selected): no report at all
        if _refused_key in config.stash:
            return  # the key was refused on the first answer: nothing is kept
        settings = settings_for(config)
        if handle is not None:
            handle.expected = len(self.expected)
        if stopped:
            if handle is not None:
                handle.interrupted = True
                handle.results = [r.to_dict() for r in self.results.values()]
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.ensure_newline()
                reporter.write_line(
                    f"conformance: interrupted after {len(self.results)} of {len(self.expected)} case(s); the "
                    f"previous report in {settings.report_dir} and the cassettes of unfinished cases are unchanged.")
            return
        typed = self.complete_results()
        results = [r.to_dict() for r in typed]  # the report's JSON form, from here on
        if handle is not None:
            handle.results = results
        from conformance.report.build import build_report
        from conformance.report.write import write_reports

        report = build_report(typed, settings)
        if handle is not None:
            handle.report = report
        if config.getoption("--conformance-no-report"):
            return
        if not judged(results) and judged_report_at(settings.report_dir):
            return  # a replay that judged nothing (no cassettes found) never replaces a report that judged something
        try:
            paths = write_reports(report, settings.report_dir)
        except OSError as exc:
            message = f"cannot write the report to {settings.report_dir}: {exc.strerror or exc}"
            if handle is not None:
                handle.write_error = message
            raise pytest.UsageError(message) from None
        except KeyboardInterrupt:
            if handle is not None:
                handle.interrupted = True
            return
        if handle is not None:
            handle.written = paths
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            summary = ", ".join(f"{k} {v}" for k, v in report["summary"].items() if v)
            reporter.ensure_newline()
            reporter.write_line(f"conformance: {summary}")
            reporter.write_line(f"conformance report: {', '.join(str(p) for p in paths)}")
