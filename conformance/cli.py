"""conformance: run the OpenAI-compatibility catalogue against a server and report where it falls short.

User mistakes end as one line on stderr and exit code 2; a run exits 1 when a case FAILs or ERRORs outside the
target's known gaps. The commands live in conformance/commands/, one module each; this module parses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from conformance import __version__
from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_INTERRUPTED, EXIT_USAGE
from conformance.run import interrupt

VALIDATE_KINDS = ("auto", "chat.completion", "chat.completion.chunk", "stream", "embeddings", "error", "models",
                  "model", "images", "file", "file.deleted", "batch", "batch.output", "response", "responses.stream",
                  "response.deleted", "response.input_items")


RUN_EXAMPLES = """examples:
  conformance run                                   replay the committed cassettes of the config's target
  conformance run --target gemini --record-mode once --dry-run
                                                    what a first live run would send (no request)
  conformance run --target gemini --record-mode once
                                                    record what is missing (GEMINI_API_KEY set)
  conformance run --base-url http://127.0.0.1:8000/v1/ --chat-model M --embedding-model E --record-mode once
                                                    any server (the key in OPENAI_API_KEY)
  conformance run -k 'stream or tools' --surfaces python-sdk,rest
                                                    part of the catalogue on two surfaces
  conformance run --baseline reports/gemini/report.json
                                                    the CI gate: exit 1 on a regression

exit codes: 0 nothing new fails; 1 a FAIL or ERROR outside the known gaps, a regression, or a server that
refused every request; 2 a usage error or a pre-check that stopped the run (nothing written); 130 interrupted.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, as for every other usage error
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from conformance.run.config import load_project
    from conformance.run.options import add_cli_options, add_option

    project = load_project()
    parser = _Parser(prog="conformance", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", action="version", version=f"openai-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = commands.add_parser("run", help="run the catalogue against a target and write its report",
                              description="Run the catalogue against a target (replaying its cassettes by default) "
                                          "and write report.json, report.md and report.html.",
                              epilog=RUN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cli_options(run, project)

    report = commands.add_parser("report", help="cross-target matrix from several report.json files")
    report.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="report.json files, one per target")
    report.add_argument("--out", type=Path, default=Path("reports/cross-target"), metavar="DIR",
                        help="folder for matrix.md and matrix.html [default: reports/cross-target]")

    diff = commands.add_parser("diff", help="compare two report.json files; exit 1 on any regression")
    diff.add_argument("baseline", type=Path, help="the report to compare against (e.g. the committed one)")
    diff.add_argument("current", type=Path, help="the new report")
    diff.add_argument("--markdown", type=Path, metavar="FILE", help="also write the diff as Markdown (for a PR)")
    diff.add_argument("--show-unchanged", action="store_true", help="list unchanged cases too")
    diff.add_argument("--strict", action="store_true",
                      help="exit 1 on any change, improvements included (to prove two runs are identical)")

    proxy = commands.add_parser("proxy", help="a loopback recording proxy for any HTTP client (record or replay)")
    for name in ("target", "base_url", "api_key_env"):
        add_option(proxy, name, project)
    proxy.add_argument("--cassette", type=Path, required=True, metavar="FILE",
                       help="the cassette to record to or replay from")
    proxy.add_argument("--record-mode", choices=["none", "once", "new_episodes", "all"], default="none",
                       help="none replays the cassette offline [default: none]")
    proxy.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 [default: a free one]")
    add_option(proxy, "timeout", project)

    checks = commands.add_parser("checks", help="list every check: id, severity, what it checks, its source")
    checks.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                        help="text for people, json for tools, markdown for docs [default: text]")
    checks.add_argument("--checks", metavar="IDS", help="only these ids or globs, comma-separated")
    checks.add_argument("--coverage", action="store_true",
                        help="the spec's normative statements traced: the check for each, or why none can judge it")

    init = commands.add_parser("init", help="start your own project: profile, known-gaps manifest, config, workflow",
                               description="Write a starting profile (targets/NAME.toml), an empty known-gaps "
                                           "manifest (targets/NAME.gaps.toml), conformance.toml and a GitHub "
                                           "workflow, refusing to overwrite anything that exists.")
    init.add_argument("--target", help="built-in target to start from [default: gemini]")
    init.add_argument("--base-url", help="or start from any server: its OpenAI-compatible base URL")
    init.add_argument("--name", help="the target's name (folders cassettes/NAME, reports/NAME)")
    init.add_argument("--api-key-env", help="with --base-url: the variable that holds the key [default: "
                                            "OPENAI_API_KEY]")
    init.add_argument("--chat-model", help="with --base-url: the chat model to test")
    init.add_argument("--embedding-model", help="with --base-url: the embedding model to test")
    init.add_argument("--action", metavar="OWNER/REPO@REF",
                      help="the GitHub Action the workflow uses [default: this suite's, at its version]")
    init.add_argument("--no-workflow", action="store_true", help="do not write .github/workflows/conformance.yml")
    init.add_argument("--dir", metavar="DIR", help="the project folder [default: the working folder]")

    gaps = commands.add_parser("gaps", help="known-gaps manifests: draft one from a report's findings")
    gaps_commands = gaps.add_subparsers(dest="gaps_command", required=True, parser_class=_Parser, metavar="ACTION")
    draft = gaps_commands.add_parser("draft", help="write a manifest from a report's findings, each with its "
                                                   "cassette as source and a reason to fill in",
                                     description="Draft a known-gaps manifest from a report.json: one entry per "
                                                 "check and pointer seen outside the known gaps (and per failing "
                                                 "verdict without a finding), each with its cassette as source "
                                                 "and a TODO reason. Example: conformance gaps draft "
                                                 "reports/mine/report.json --out targets/mine.gaps.toml")
    draft.add_argument("report", type=Path, metavar="REPORT", help="a report.json written by 'conformance run'")
    draft.add_argument("--out", type=Path, metavar="FILE", help="write the draft here (never overwrites) "
                                                                "[default: print it]")

    commands.add_parser("setup-node", help="install the pinned OpenAI Node.js SDK for the node-sdk surface (npm ci)")

    selftest = commands.add_parser("selftest", help="inject known deviations into recorded exchanges; all caught?")
    selftest.add_argument("--cassettes", type=Path, default=Path("cassettes"), metavar="DIR",
                          help="folder of recorded cassettes (<target>/<surface>/<case>.yaml) [default: cassettes]")
    selftest.add_argument("--out", type=Path, metavar="DIR", help="also write selftest.json and selftest.md here")

    validate = commands.add_parser("validate", help="check captured responses (JSON, chunk arrays, JSON Lines or SSE)")
    validate.add_argument("--kind", default="auto", choices=VALIDATE_KINDS,
                          help="what the files hold; auto tells by shape [default: auto]")
    validate.add_argument("--format", choices=["text", "json"], default="text",
                          help="text for people, json for tools [default: text]")
    validate.add_argument("--request", type=Path, metavar="FILE",
                          help="the JSON request body that produced the captures: enables the checks that judge an "
                               "answer against its request (n, tool_choice, declared tools, stop, include_usage...)")
    validate.add_argument("--checks", metavar="IDS", help="only these checks, comma-separated ids or globs")
    validate.add_argument("--exclude-checks", metavar="IDS", help="leave out these checks (ids or globs)")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help="captured response bodies or streams")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    interrupt.install()  # first: a SIGTERM during the imports below must stop cleanly too
    from conformance.output.console import make_console

    try:
        args = build_parser().parse_args(argv)
        if args.command == "run":
            from conformance.commands.run import command_run

            return command_run(args)
        if args.command == "validate":
            from conformance.commands.validate import command_validate

            return command_validate(args)
        if args.command == "diff":
            from conformance.commands.diff import command_diff

            return command_diff(args)
        if args.command == "report":
            from conformance.commands.report import command_report

            return command_report(args)
        if args.command == "selftest":
            from conformance.commands.selftest import command_selftest

            return command_selftest(args)
        if args.command == "checks":
            from conformance.commands.checks import command_checks

            return command_checks(args)
        if args.command == "init":
            from conformance.commands.init import command_init

            return command_init(args)
        if args.command == "gaps":
            from conformance.commands.gaps import command_gaps

            return command_gaps(args)
        if args.command == "setup-node":
            from conformance.commands.setup_node import command_setup_node

            return command_setup_node()
        if args.command == "proxy":
            from conformance.commands.proxy import command_proxy

            return command_proxy(args)
    except UsageError as exc:
        console = make_console(stderr=True)
        console.print(f"conformance: error: {exc}", markup=False)
        if exc.hint:
            console.print(exc.hint, markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        make_console(stderr=True).print("conformance: interrupted; files already written were written whole",
                                        markup=False)
        return EXIT_INTERRUPTED
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
