"""Progress of a run on the terminal: a bar with an ETA on a terminal, one line per result in a pipe or a log.

pytest's own terminal output is switched off under the CLI: its counts ("88 passed") would say something else
than the verdicts, and its interrupt banner would repeat what the CLI says in one line.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

from conformance.commands.plan import planned_requests, quota_message, request_estimate, to_send, within_quota
from conformance.pytest_plugin import RESULT_ATTRIBUTE, split_nodeid


class Progress:
    def __init__(self, handle: Any, console: Console) -> None:
        self.handle = handle
        self.console = console
        self.done = 0
        self.total = handle.planned
        self._bar: Bar | None = None
        self._task: Any = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._start([i.nodeid for i in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self._bar is None:
            self._start(ids)

    def _start(self, nodeids: list[str]) -> None:
        pairs = [pair for pair in map(split_nodeid, nodeids) if pair is not None]
        total = self.total = len(pairs)
        settings = self.handle.settings
        if settings.recording and total:  # before the first request: how many, and how long at the run's pace
            self.console.print(request_estimate(pairs, settings), markup=False)
            requests, _ = planned_requests(pairs, settings)
            rpd = settings.profile.rpd
            if rpd and requests > rpd:  # the key's daily quota would run out: send what fits, leave the rest
                kept = within_quota(pairs, settings, rpd)
                settings.deferred = frozenset(set(to_send(pairs, settings)) - kept)
                self.handle.deferred = len(settings.deferred)
                self.console.print(quota_message(requests, settings, len(kept), len(settings.deferred)),
                                   markup=False)
        if self.console.is_terminal and total:
            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
                            transient=True)
            self._task = self._bar.add_task("cases", total=total)
            self._bar.start()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        value = getattr(report, RESULT_ATTRIBUTE, None)
        if report.when != "call" or not value:
            return
        self.done += 1
        result = json.loads(value)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=f"{result['case']} {result['surface']}")
        else:
            known = " (known gap)" if result.get("gated_verdict") != result["verdict"] else ""
            self.console.print(f"[{self.done}/{self.total or '?'}] {result['case']} on {result['surface']}: "
                               f"{result['verdict']}{known}", markup=False)

    def pytest_sessionfinish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
