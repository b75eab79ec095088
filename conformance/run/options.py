"""Every run option, declared once: the CLI's ``conformance run`` flags and the pytest plugin's ``--conformance-*``
options are both generated from this table, and so are their defaults and help texts.

A new option is one entry here plus the place that uses it (a field of ``Settings`` when it shapes the run).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.targets import builtin_targets

if TYPE_CHECKING:
    from conformance.run.config import ProjectConfig

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRIES = 3
DEFAULT_RETRY_BUDGET_S = 60.0
DEFAULT_MAX_BODY_MB = 64.0
DEFAULT_BATCH_WAIT_S = 300.0
# pytest-recording's record modes (``rewrite`` is this suite's: all, with the cassettes emptied first).
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")


def _targets() -> str:
    return ", ".join(builtin_targets())


@dataclass(frozen=True)
class RunOption:
    name: str  # the Settings-facing name: "retry_budget" -> --retry-budget / --conformance-retry-budget
    help: str | Callable[[], str]
    type: Callable[[str], Any] = str
    default: Any = None
    env: str | None = None  # an environment variable that supplies the default
    metavar: str | None = None
    group: str = "target"  # the section of `conformance run --help` it is listed in (GROUPS)
    # A flag of the CLI only (the gate, fuzzing, a dry run): pytest runs never see it, so no --conformance-* twin.
    cli_only: bool = False
    switch: bool = False  # a flag without a value (store_true); its default is False
    choices: tuple[str, ...] | None = None
    short: str = ""  # a flag spelt as pytest spells it ("-k", "-n") instead of --name

    @property
    def flag(self) -> str:
        return self.short or "--" + self.name.replace("_", "-")

    @property
    def pytest_flag(self) -> str:
        return "--conformance-" + self.name.replace("_", "-")

    def default_value(self, project: ProjectConfig | None = None) -> Any:
        """What applies when no flag is given: the environment variable, then the project's config, then the
        built-in default."""
        if self.env and os.environ.get(self.env):
            return self.type(os.environ[self.env])
        if project is not None and self.name in project.values:
            return project.values[self.name]
        return self.default

    def help_text(self) -> str:
        text = self.help() if callable(self.help) else self.help
        if self.default is not None:
            text += f" [default: {self.default:g}]" if isinstance(self.default, float) else \
                f" [default: {self.default}]"
        if self.env:
            text += f" (env {self.env})"
        return text


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _not_negative(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _tier(text: str) -> str:
    if text not in ("core", "full"):
        raise argparse.ArgumentTypeError(f"choose core or full, not {text!r}")
    return text


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("target", lambda: f"built-in target ({_targets()}) or a profile .toml file [default: gemini]",
              env="CONFORMANCE_TARGET"),
    RunOption("name", "name of an ad-hoc target given with --base-url (folders cassettes/NAME, reports/NAME) "
                      "[default: its host and port]"),
    RunOption("base_url", "the server's OpenAI-compatible base URL (overrides the target's)"),
    RunOption("embedding_base_url", "a second server for the embeddings endpoint (overrides the target's; e.g. "
                                    "vLLM, one model per process)"),
    RunOption("api_key_env", "environment variable that holds the API key"),
    RunOption("chat_model", "chat model to test"),
    RunOption("embedding_model", "embedding model to test"),
    RunOption("surfaces", "comma-separated client surfaces to run (python-sdk, rest, node-sdk, curl) "
                          "[default: all]", group="selection"),
    RunOption("cassette_dir", "cassette folder [default: cassettes/<target>]", group="files"),
    RunOption("report_dir", "report folder [default: reports/<target>]", group="files"),
    RunOption("timeout", "seconds one exchange may take in all: connect, headers and the whole body or stream",
              _positive(float), DEFAULT_TIMEOUT_S, metavar="SECONDS", group="limits"),
    RunOption("max_body_mb", "largest response body accepted, after decompression, in MB", _positive(float),
              DEFAULT_MAX_BODY_MB, metavar="MB", group="limits"),
    RunOption("retries", "extra attempts after HTTP 429/503, with backoff honouring Retry-After",
              _not_negative(int), DEFAULT_RETRIES, metavar="N", group="limits"),
    RunOption("retry_budget", "seconds a case may wait between attempts in all", _not_negative(float),
              DEFAULT_RETRY_BUDGET_S, metavar="SECONDS", group="limits"),
    RunOption("batch_wait", "seconds a live run waits for a batch (Batch API cases) to finish before it cancels it, "
                            "deletes its files and says the output was not judged", _positive(float),
              DEFAULT_BATCH_WAIT_S, metavar="SECONDS", group="limits"),
    RunOption("cases_dir", "also run the saved cases (JSON) in this folder, e.g. shrunk fuzz failures",
              group="selection"),
    RunOption("gaps", "known-gaps manifest .toml, or 'none' [default: the target's built-in one]", group="files"),
    RunOption("catalogue", "core (the documented features and most used parameters) or full (also every invalid "
                           "value OpenAI is recorded rejecting) [default: core when recording, full when replaying]",
              _tier, metavar="TIER", group="selection"),
    RunOption("repeat", "send each case K times when recording, all K exchanges kept in its cassette; results "
                        "carry per-expectation pass rates (a replay takes each cassette's recorded count)",
              _positive(int), metavar="K", group="selection"),
    RunOption("rpm", "pace a live run to N requests per minute across all workers (0: unpaced) [default: the "
                     "target profile's rpm, if it states one]", _not_negative(float), metavar="N", group="limits"),
    RunOption("checks", "only these checks, comma-separated ids or globs (e.g. 'stream.*,tools.call.*'); see "
                        "'conformance checks' [default: all]", metavar="IDS", group="selection"),
    RunOption("exclude_checks", "leave out these checks, comma-separated ids or globs", metavar="IDS",
              group="selection"),
    RunOption("keyword", "only cases matching this pytest -k expression", metavar="EXPRESSION", group="selection",
              cli_only=True, short="-k"),
    RunOption("workers", "run on N pytest-xdist workers", metavar="N", group="selection", cli_only=True,
              short="-n"),
    RunOption("record_mode", "none replays cassettes (no key, no network); once records what is missing; rewrite "
                             "re-records everything", default="none", choices=RECORD_MODES, group="recording",
              cli_only=True),
    RunOption("dry_run", "make every pre-check a run makes without a server (key set, folders, cassettes, daily "
                         "quota, what a replay would find), say what the run would send, and exit as it would",
              group="recording", cli_only=True, switch=True),
    RunOption("no_share", "live: send every surface's request to the server, even when another surface of the "
                          "case already sent the same one (by default its answer is shared: one live request each)",
              group="recording", cli_only=True, switch=True),
    RunOption("skip_without_key", "in record mode, exit 0 with a message (instead of 2) when the key is not set",
              group="recording", cli_only=True, switch=True),
    RunOption("fuzz", "live fuzzing: N drawn requests; a failure is shrunk and saved as a case (needs the key)",
              int, metavar="N", group="recording", cli_only=True),
    RunOption("fuzz_seed", "make --fuzz draw the same requests every time", int, metavar="SEED", group="recording",
              cli_only=True),
    RunOption("baseline", "a baseline report.json: print the diff after the run and exit 1 on any regression (if "
                          "it does not exist yet, this run's report becomes it)", Path, metavar="REPORT",
              group="gate", cli_only=True),
    RunOption("junitxml", "also write JUnit XML (verdict and check ids per test case)", Path, metavar="FILE",
              group="gate", cli_only=True),
)


# The sections of `conformance run --help`, in order: (group, title).
GROUPS = (("target", "the server"), ("selection", "what runs"), ("files", "where files go"),
          ("limits", "limits and pace of a live run"),
          ("recording", "recording (live runs need the key in the profile's variable)"), ("gate", "the gate"))


def add_cli_options(parser: argparse.ArgumentParser, project: ProjectConfig | None = None) -> dict[str, Any]:
    """The run options, in their help sections; returns the sections (argparse groups) by name."""
    sections = {name: parser.add_argument_group(title) for name, title in GROUPS}
    for option in RUN_OPTIONS:
        add_option(sections[option.group], option, project)
    return sections


def add_option(parser: Any, option: RunOption | str, project: ProjectConfig | None = None, *,
               help: str | None = None) -> None:
    """One run option on ``parser`` (a run's, or another command's that takes the same option: the proxy's
    --timeout is the run's), with its one declared default; ``help`` words it for that command."""
    if isinstance(option, str):
        option = next(o for o in RUN_OPTIONS if o.name == option)
    text = help if help is not None else option.help_text()
    if option.switch:
        parser.add_argument(option.flag, dest=option.name, action="store_true", help=text)
        return
    parser.add_argument(option.flag, dest=option.name, type=option.type, default=option.default_value(project),
                        metavar=option.metavar, choices=option.choices, help=text)


def add_pytest_options(group: Any) -> None:
    # No default here: it is resolved when the run starts (from_pytest), so that a project's config, read then,
    # applies under plain pytest as it does under the CLI, and a broken config fails that run, not every pytest
    # run in the environment.
    for option in RUN_OPTIONS:
        if option.cli_only:
            continue
        group.addoption(option.pytest_flag, dest=f"conformance_{option.name}", type=option.type,
                        default=None, metavar=option.metavar, help=option.help_text())


def pytest_args_for(values: dict[str, Any]) -> list[str]:
    """The pytest options that carry ``values`` (a run's resolved option values) to pytest-xdist workers."""
    args = []
    for option in RUN_OPTIONS:
        if option.cli_only:
            continue
        value = values.get(option.name)
        if value is not None and value != "":
            args.append(f"{option.pytest_flag}={value}")
    return args
