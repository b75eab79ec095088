"""``conformance``: run the catalogue and write a report, or validate captured responses offline.

User mistakes end as one line on stderr and exit code 2; a run exits 1 when a case FAILs or ERRORs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conformance import __version__
from conformance.errors import UsageError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for every other usage error
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conformance", description=__doc__)
    parser.add_argument("--version", action="version", version=f"openai-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run the catalogue against a target and write its report")
    run.add_argument("--target", help="gemini, openai, llamacpp or a profile .toml file [default: gemini]")
    run.add_argument("--base-url", help="the server's OpenAI-compatible base URL (overrides the target's)")
    run.add_argument("--api-key-env", help="environment variable that holds the API key")
    run.add_argument("--chat-model", help="chat model to test")
    run.add_argument("--embedding-model", help="embedding model to test")
    run.add_argument("--record-mode", choices=RECORD_MODES, default="none",
                     help="none replays committed cassettes (no key, no network); once/rewrite record live")
    run.add_argument("--surfaces", help="comma-separated client surfaces to run [default: all]")
    run.add_argument("--cassette-dir", help="cassette folder [default: cassettes/<target>]")
    run.add_argument("--report-dir", help="report folder [default: reports/<target>]")
    run.add_argument("--timeout", type=float, default=60.0, help="per-request timeout in seconds [default: 60]")
    run.add_argument("--retries", type=int, default=3, help="extra attempts after HTTP 429/503 [default: 3]")
    run.add_argument("--retry-budget", type=float, default=60.0,
                     help="seconds a case may wait between attempts in all [default: 60]")
    run.add_argument("-k", dest="keyword", help="only cases matching this pytest -k expression")
    run.add_argument("-n", dest="workers", help="run with pytest-xdist on this many workers")
    run.add_argument("--junitxml", type=Path, help="also write JUnit XML (verdict and check ids per test case)")
    run.add_argument("--baseline", type=Path,
                     help="a baseline report.json: print the diff after the run and exit 1 on any regression")
    run.add_argument("--cases-dir", type=Path, help="also run the saved cases (JSON) in this folder")
    run.add_argument("--fuzz", type=int, metavar="N",
                     help="live fuzzing: N drawn requests; a failure is shrunk and saved as a case (needs the key)")
    run.add_argument("--fuzz-seed", type=int, help="make --fuzz draw the same requests every time")
    run.add_argument("--gaps", help="known-gaps manifest .toml, or 'none' [default: the target's built-in one]")
    run.add_argument("--skip-without-key", action="store_true",
                     help="in record mode, exit 0 with a message (instead of 2) when the key is not set")

    report = commands.add_parser("report", help="cross-target matrix from several report.json files")
    report.add_argument("reports", nargs="+", type=Path)
    report.add_argument("--out", type=Path, default=Path("reports/cross-target"),
                        help="folder for matrix.md and matrix.html [default: reports/cross-target]")

    diff = commands.add_parser("diff", help="compare two report.json files; exit 1 on any regression")
    diff.add_argument("baseline", type=Path)
    diff.add_argument("current", type=Path)
    diff.add_argument("--markdown", type=Path, help="also write the diff as Markdown (for a PR comment)")
    diff.add_argument("--show-unchanged", action="store_true", help="list unchanged cases too")
    diff.add_argument("--strict", action="store_true",
                      help="exit 1 on any change, improvements included (to prove two runs are identical)")

    proxy = commands.add_parser("proxy", help="a loopback recording proxy for any HTTP client (record or replay)")
    proxy.add_argument("--target", help="gemini, openai, llamacpp or a profile .toml file [default: gemini]")
    proxy.add_argument("--base-url", help="the server's OpenAI-compatible base URL (overrides the target's)")
    proxy.add_argument("--api-key-env", help="environment variable that holds the API key")
    proxy.add_argument("--cassette", type=Path, required=True, help="the cassette to record to or replay from")
    proxy.add_argument("--record-mode", choices=["none", "once", "new_episodes", "all"], default="none")
    proxy.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 [default: a free one]")
    proxy.add_argument("--timeout", type=float, default=60.0, help="per-request timeout in seconds")

    commands.add_parser("setup-node", help="install the pinned OpenAI Node.js SDK for the node-sdk surface (npm ci)")

    selftest = commands.add_parser("selftest", help="inject known deviations into recorded exchanges; all caught?")
    selftest.add_argument("--cassettes", type=Path, default=Path("cassettes"),
                          help="folder of recorded cassettes (<target>/<surface>/<case>.yaml) [default: cassettes]")
    selftest.add_argument("--out", type=Path, help="also write selftest.json and selftest.md to this folder")

    validate = commands.add_parser("validate", help="check captured responses (JSON, chunk arrays or SSE text)")
    validate.add_argument("--kind", default="auto",
                          choices=["auto", "chat.completion", "chat.completion.chunk", "stream", "embeddings",
                                   "error"])
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.add_argument("files", nargs="+", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "run":
            return command_run(args)
        if args.command == "validate":
            return command_validate(args)
        if args.command == "diff":
            return command_diff(args)
        if args.command == "report":
            return command_report(args)
        if args.command == "selftest":
            return command_selftest(args)
        if args.command == "setup-node":
            return command_setup_node()
        if args.command == "proxy":
            return command_proxy(args)
    except UsageError as exc:
        stderr.print(f"conformance: error: {exc}", markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr.print("conformance: interrupted; files already written were written whole", markup=False)
        return 130
    return EXIT_USAGE


def command_run(args: argparse.Namespace) -> int:
    import pytest

    from conformance.profiles import load_profile
    from conformance.settings import default_dir, missing_key_message, parse_surfaces

    profile = load_profile(args.target, base_url=args.base_url, api_key_env=args.api_key_env,
                           chat_model=args.chat_model, embedding_model=args.embedding_model)
    parse_surfaces(args.surfaces)
    if args.record_mode != "none" and not profile.api_key():
        if args.skip_without_key:
            stderr.print(f"skipped: {profile.api_key_env} is not set, so {profile.name} cannot be recorded live",
                         markup=False)
            return EXIT_OK
        raise UsageError(missing_key_message(profile, args.record_mode))
    if args.fuzz is not None and not profile.api_key():
        raise UsageError(missing_key_message(profile, "fuzz"))
    if args.record_mode != "none" or args.fuzz is not None:
        check_reachable(profile.base_url, args.timeout)
    if args.fuzz is not None:
        return command_fuzz(args, profile)
    if args.baseline:
        from conformance.report.diff import load_report

        baseline = load_report(args.baseline)
    cassette_dir = Path(args.cassette_dir) if args.cassette_dir else default_dir("cassettes", profile.name)
    report_dir = Path(args.report_dir) if args.report_dir else default_dir("reports", profile.name)
    if cassette_dir.exists() and not cassette_dir.is_dir():
        raise UsageError(f"cassette folder {cassette_dir} is not a folder: give a folder with --cassette-dir")
    if args.record_mode == "none" and not cassette_dir.is_dir():
        stderr.print(f"note: no cassettes in {cassette_dir}: every case will be NOT RECORDED", markup=False)
    # "rewrite" re-records everything but replaces each cassette only once its new version is whole.
    mode = "all" if args.record_mode == "rewrite" else args.record_mode
    pytest_args = ["--pyargs", "conformance.suite", "-q", "-p", "no:cacheprovider", "-rfE",
                   "-W", "ignore::pytest.PytestAssertRewriteWarning",
                   f"--record-mode={mode}", *(["--conformance-fresh"] if args.record_mode == "rewrite" else []),
                   f"--conformance-cassette-dir={cassette_dir}",
                   f"--conformance-report-dir={report_dir}", f"--conformance-timeout={args.timeout}",
                   f"--conformance-retries={args.retries}", f"--conformance-retry-budget={args.retry_budget}"]
    for flag, value in (("target", args.target), ("base-url", args.base_url), ("api-key-env", args.api_key_env),
                        ("chat-model", args.chat_model), ("embedding-model", args.embedding_model),
                        ("surfaces", args.surfaces), ("gaps", args.gaps), ("cases-dir", args.cases_dir)):
        if value:
            pytest_args.append(f"--conformance-{flag}={value}")
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.workers:
        pytest_args += ["-n", args.workers]
    if args.junitxml:
        pytest_args.append(f"--junitxml={args.junitxml}")
    report_file = report_dir / "report.json"
    before = report_file.stat().st_mtime_ns if report_file.exists() else None
    stderr.print(f"running the catalogue against {profile.name} ({profile.base_url}), "
                 f"{'replaying cassettes' if args.record_mode == 'none' else 'recording: ' + args.record_mode}",
                 markup=False)
    code = pytest.main(pytest_args)
    if code == pytest.ExitCode.INTERRUPTED:
        return 130
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        return EXIT_USAGE if code == pytest.ExitCode.USAGE_ERROR else int(code)
    if not report_file.exists() or report_file.stat().st_mtime_ns == before:
        raise UsageError("no case ran, so no report was written: check -k and --surfaces")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    print_summary(report)
    gated = report.get("gated_summary", report["summary"])
    failing = gated.get("FAIL", 0) + gated.get("ERROR", 0)
    for gap in report.get("gaps_closed", []):
        stdout.print(f"known gap closed: {gap['id']} ({gap['check'] or gap['verdict']}) no longer shows up: remove "
                     "it from the manifest", markup=False)
    if args.baseline:
        from conformance.report.diff import diff_reports, has_regression

        changes = diff_reports(baseline, report)
        print_diff(changes)
        write_diff_markdown(changes, report_dir / "diff.md", str(args.baseline), str(report_file))
        if has_regression(changes):
            return EXIT_FINDINGS
    return EXIT_FINDINGS if failing else EXIT_OK


def print_summary(report: dict) -> None:
    table = Table(title=f"{report['target']['name']}: validated against OpenAI spec {report['spec']['label']}")
    table.add_column("case")
    surfaces = [s["name"] for s in report["surfaces"]]
    for surface in surfaces:
        table.add_column(surface)
    styles = {"PASS": "green", "DEVIATION": "yellow", "UNSUPPORTED": "magenta", "FAIL": "red", "ERROR": "bold red"}
    grid: dict[str, dict[str, dict]] = {}
    for result in report["results"]:
        grid.setdefault(result["case"], {})[result["surface"]] = result
    for case, row in grid.items():
        cells = []
        for surface in surfaces:
            result = row.get(surface)
            verdict = result["verdict"] if result else ""
            known = result and result.get("gated_verdict", verdict) != verdict
            cells.append(f"[{styles.get(verdict, 'dim')}]{verdict}[/]" + ("[dim]*[/]" if known else ""))
        table.add_row(case, *cells)
    stdout.print(table)
    stdout.print(", ".join(f"{k} {v}" for k, v in report["summary"].items() if v), markup=False)
    if report.get("known_gaps", {}).get("manifest"):
        gated = ", ".join(f"{k} {v}" for k, v in report["gated_summary"].items() if v)
        stdout.print(f"* known gap, listed in {report['known_gaps']['manifest']}", markup=False)
        stdout.print(f"with known gaps set aside: {gated}", markup=False)


def command_diff(args: argparse.Namespace) -> int:
    from conformance.report.diff import diff_reports, has_regression, load_report

    changes = diff_reports(load_report(args.baseline), load_report(args.current))
    print_diff(changes, show_unchanged=args.show_unchanged)
    if args.markdown:
        write_diff_markdown(changes, args.markdown, str(args.baseline), str(args.current))
    if args.strict:
        return EXIT_FINDINGS if any(c.kind != "unchanged" for c in changes) else EXIT_OK
    return EXIT_FINDINGS if has_regression(changes) else EXIT_OK


def write_diff_markdown(changes: list, path: Path, baseline: str, current: str) -> None:
    from conformance import atomic
    from conformance.report.write import template_environment

    text = template_environment().get_template("diff.md.j2").render(
        changes=changes, baseline_name=baseline, current_name=current)
    atomic.write_text(path, text)


def check_reachable(base_url: str, timeout_s: float) -> None:
    """Before a live run: can the server's host and port be reached at all? (One clear line if not.)"""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=min(timeout_s, 10)):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot reach {parts.hostname}:{port} for {base_url} ({reason}): check --base-url, the "
                         "network, or that the server is running") from None


def command_fuzz(args: argparse.Namespace, profile: object) -> int:
    from conformance.fuzz import fuzz
    from conformance.gaps import load_manifest, manifest_path
    from conformance.settings import Settings, default_dir, missing_key_message, parse_surfaces

    surfaces = parse_surfaces(args.surfaces or "rest")
    if len(surfaces) != 1:
        raise UsageError("--fuzz runs on one surface: give --surfaces rest (or python-sdk, ...)")
    if args.fuzz < 1:
        raise UsageError("--fuzz needs a number of examples >= 1")
    if not profile.api_key():
        raise UsageError(missing_key_message(profile, "fuzz"))
    gaps = None if args.gaps == "none" else (args.gaps or manifest_path(profile.name))
    settings = Settings(profile=profile, record_mode="once",
                        cassette_dir=Path(args.cassette_dir) if args.cassette_dir else default_dir("cassettes",
                                                                                                     profile.name),
                        report_dir=Path(args.report_dir) if args.report_dir else default_dir("reports", profile.name),
                        surfaces=surfaces, timeout_s=args.timeout, gaps=load_manifest(gaps), retries=args.retries,
                        retry_budget_s=args.retry_budget)
    cases_dir = args.cases_dir or Path("cases") / profile.name
    stderr.print(f"fuzzing {profile.name} on {surfaces[0]} with up to {args.fuzz} drawn requests (live)",
                 markup=False)
    outcome = fuzz(settings, args.fuzz, surfaces[0], cases_dir, seed=args.fuzz_seed)
    if outcome.failing is None:
        stdout.print(f"fuzz: {outcome.tried} request(s), every answer passed the checks", markup=False)
        return EXIT_OK
    result = outcome.result
    stdout.print(f"fuzz: {outcome.tried} request(s); minimal failing request {outcome.failing.id}: "
                 f"{result.verdict.value}: {result.reason}", markup=False)
    stdout.print(json.dumps(outcome.failing.body, indent=2), markup=False)
    for path in outcome.saved:
        stdout.print(f"saved {path}", markup=False)
    stdout.print(f"replay it with: conformance run --target {profile.name} --cases-dir {cases_dir} "
                 f"-k {outcome.failing.id}", markup=False)
    return EXIT_FINDINGS


def command_proxy(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C: every exchange goes through the suite's cassette layer, scrubbed and matched as ever."""
    import time

    import vcr

    from conformance.cassettes import ConformancePersister, check_cassette, json_body_matcher, vcr_config
    from conformance.exchange import Capture
    from conformance.interrupt import stop_on_sigterm
    from conformance.profiles import load_profile
    from conformance.proxy import CLIENT_KEY, RecordingProxy
    from conformance.scrub import Scrubber
    from conformance.settings import REPLAY_KEY, missing_key_message

    models = {"chat_model": "-", "embedding_model": "-"} if args.target is None and args.base_url else {}
    profile = load_profile(args.target, base_url=args.base_url, api_key_env=args.api_key_env, **models)
    key = profile.api_key()
    if args.record_mode != "none" and not key:
        raise UsageError(missing_key_message(profile, args.record_mode))
    if args.record_mode == "none" and not args.cassette.is_file():
        raise UsageError(f"no cassette {args.cassette} to replay: record it first with --record-mode once")
    if args.cassette.is_file():
        check_cassette(args.cassette)
    scrubber = Scrubber([key])
    recorder = vcr.VCR(record_mode=args.record_mode)
    recorder.register_matcher("json_body", json_body_matcher)
    recorder.register_persister(ConformancePersister)
    ConformancePersister.provenance = {"target": profile.name, "base_url": profile.base_url, "via": "proxy"}
    capture = Capture(scrubber)
    stop_on_sigterm()
    secret = key or REPLAY_KEY
    headers, query = profile.auth_headers(secret), profile.auth_query(secret)
    with recorder.use_cassette(str(args.cassette), **vcr_config(scrubber)), \
            RecordingProxy(profile.base_url, headers, query, capture, args.timeout, port=args.port) as proxy:
        stdout.print(f"proxy for {profile.name} at {proxy.base_url} (API key: any value, e.g. {CLIENT_KEY}); "
                     f"{'replaying' if args.record_mode == 'none' else 'recording'} {args.cassette}; Ctrl-C stops",
                     markup=False)
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                for exchange in capture.exchanges[seen:]:
                    status = exchange.status if exchange.status is not None else exchange.error
                    stdout.print(f"{exchange.method} {exchange.url} -> {status}", markup=False)
                seen = len(capture.exchanges)
        except KeyboardInterrupt:
            stdout.print(f"proxy stopped after {seen} exchange(s)", markup=False)
    return EXIT_OK


def command_setup_node() -> int:
    """npm ci in the Node surface's folder. Without Node.js or npm, say so and succeed: that surface is NOT RUN."""
    import shutil
    import subprocess

    from conformance.surfaces.proxied import NODE_DIR

    if shutil.which("node") is None or shutil.which("npm") is None:
        stderr.print("setup-node: Node.js/npm not found; the node-sdk surface will be reported as NOT RUN",
                     markup=False)
        return EXIT_OK
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                          capture_output=True, text=True)
    if done.returncode != 0:
        stderr.print(f"setup-node: npm ci failed in {NODE_DIR}: {done.stderr.strip()[-300:]}", markup=False)
        return EXIT_FINDINGS
    stderr.print(f"setup-node: the OpenAI Node.js SDK is installed in {NODE_DIR / 'node_modules'}", markup=False)
    return EXIT_OK


def command_selftest(args: argparse.Namespace) -> int:
    from conformance.selftest.run import CAUGHT, MISSED, matrix, run_selftest, write_selftest
    from conformance.selftest.samples import load_samples

    samples = load_samples(args.cassettes)
    if not samples:
        raise UsageError(f"no recorded catalogue exchanges under {args.cassettes}")
    result = run_selftest(samples)
    table = Table(title=f"self-test over {len(samples)} recorded exchanges in {args.cassettes}")
    for column in ("deviation class", "applied", "caught by", "missed"):
        table.add_column(column)
    for injector, row in matrix(result).items():
        caught = sorted({f"{c.check}" for c in row.values() if c.outcome == CAUGHT})
        missed = [s for s, c in row.items() if c.outcome == MISSED]
        table.add_row(injector, str(len(row)), ", ".join(caught) or ("-" if not row else ""),
                      f"[bold red]{', '.join(missed)}[/]" if missed else "")
    stdout.print(table)
    counts = result.counts()
    stdout.print(f"{counts[CAUGHT]} caught, {counts[MISSED]} missed, {len(result.false_findings)} unexpected "
                 "finding(s) on untouched exchanges", markup=False)
    for sample, check, pointer in result.false_findings:
        stdout.print(f"  unexpected: {sample}: {check} at {pointer or '/'}", markup=False)
    if args.out:
        for path in write_selftest(result, args.out):
            stdout.print(f"wrote {path}", markup=False)
    return EXIT_OK if result.ok else EXIT_FINDINGS


def command_report(args: argparse.Namespace) -> int:
    from conformance.report.cross import write_cross_target
    from conformance.report.diff import load_report

    reports = [load_report(path) for path in args.reports]
    for path in write_cross_target(reports, args.out):
        stdout.print(f"wrote {path}", markup=False)
    return EXIT_OK


def print_diff(changes: list, *, show_unchanged: bool = False) -> None:
    styles = {"regression": "bold red", "improvement": "green", "unchanged": "dim", "added": "cyan",
              "removed": "yellow"}
    table = Table(title="conformance diff")
    for column in ("change", "case", "surface", "before", "after", "details"):
        table.add_column(column)
    for c in changes:
        if c.kind == "unchanged" and not show_unchanged:
            continue
        details = "; ".join([*(f"new {f}" for f in c.new_findings), *(f"gone {f}" for f in c.gone_findings),
                             *([c.note] if c.note else [])])
        table.add_row(f"[{styles[c.kind]}]{c.kind}[/]", c.case, c.surface, c.before or "", c.after or "", details)
    stdout.print(table)
    counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in styles}
    stdout.print(", ".join(f"{k} {v}" for k, v in counts.items() if v), markup=False)


def command_validate(args: argparse.Namespace) -> int:
    from conformance.validate import validate_file

    all_findings = []
    for path in args.files:
        kind, findings = validate_file(path, args.kind)
        all_findings.extend({"file": str(path), "kind": kind, "check": f.check, "pointer": f.where(),
                             "message": f.message} for f in findings)
        if args.format == "text":
            if findings:
                stdout.print(f"{path}: {kind}: {len(findings)} finding(s)", markup=False)
                for f in findings:
                    stdout.print(f"  {f.check}  {f.where()}  {f.message}", markup=False)
            else:
                stdout.print(f"{path}: {kind}: OK", markup=False)
    if args.format == "json":
        print(json.dumps(all_findings, indent=2))
    return EXIT_FINDINGS if all_findings else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
