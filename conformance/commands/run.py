"""``conformance run``: check everything that can be checked first, run the catalogue under pytest, report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance.commands.plan import planned_requests, quota_message, request_estimate, to_send, within_quota
from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from conformance.output.console import make_console
from conformance.run.options import RUN_OPTIONS

EXIT_PYTEST_INTERRUPTED = 2  # pytest.ExitCode.INTERRUPTED


def command_run(args: argparse.Namespace) -> int:
    from conformance.run.settings import missing_key_message, resolve

    err, out = make_console(stderr=True), make_console()
    if args.workers:
        _check_workers(args.workers)
    settings = resolve({o.name: getattr(args, o.name) for o in RUN_OPTIONS}, args.record_mode,
                       share=not args.no_share)
    profile = settings.profile
    live = settings.recording or args.fuzz is not None
    if args.dry_run:
        return _dry_run(args, settings, err)
    if live and not profile.fetch_key():
        if args.skip_without_key:
            err.print(f"skipped: {profile.api_key_env} is not set, so {profile.name} cannot be recorded live",
                      markup=False)
            return EXIT_OK
        raise UsageError(missing_key_message(profile, "fuzz" if args.fuzz is not None else args.record_mode,
                                             settings.cassette_dir))
    from conformance.run.preflight import check_cases_dir

    saved: list[Any] = []
    if args.fuzz is None:  # with --fuzz it is where a failing case is saved
        from conformance.catalogue.saved import load_cases

        check_cases_dir(args.cases_dir)
        saved = load_cases(args.cases_dir)  # every saved case checked (ids, endpoints) before anything else
    baseline = _baseline(args.baseline, err)
    handle = _prepared_handle(settings, saved, args.catalogue) if args.fuzz is None else None
    if live:
        for base_url in profile.base_urls:
            check_reachable(base_url, settings.timeout_s)
        check_models(settings, err)
    _say_unavailable_surfaces(settings, err)
    from conformance.pytest_plugin import report_at

    previous = report_at(settings.report_dir)  # the report this run replaces: the versions it was made with
    if handle is None:
        from conformance.commands.fuzz import command_fuzz

        return command_fuzz(args, settings)
    if not settings.recording and not settings.cassette_dir.is_dir():
        err.print(f"note: no cassettes in {settings.cassette_dir}: every case will be NOT RECORDED", markup=False)
    planned = f"{handle.planned} case x surface run(s)" if not args.keyword else f"the cases matching -k {args.keyword}"
    err.print(f"running {planned} against {profile.name} ({profile.base_url}), "
              f"{'replaying cassettes' if not settings.recording else 'recording: ' + args.record_mode}",
              markup=False)
    try:
        code = _run_pytest(args, settings, handle)
    finally:
        if settings.recording:
            _say_what_is_left(settings, err)
    if handle.key_refused:
        raise UsageError(handle.key_refused, hint=settings.record_command())
    if handle.interrupted or code == EXIT_PYTEST_INTERRUPTED:
        total = handle.expected or handle.planned
        err.print(f"conformance: interrupted after {len(handle.results)} of {total} case(s); "
                  f"{total - len(handle.results)} not finished. The previous report in {settings.report_dir} and the "
                  "cassettes of unfinished cases are unchanged.", markup=False)
        return EXIT_INTERRUPTED
    if handle.write_error:
        raise UsageError(handle.write_error)
    if handle.report is None:
        if code in (3, 4):  # pytest's internal or usage error: it said why on stderr
            return EXIT_USAGE
        raise UsageError("no case ran, so no report was written: check -k and --surfaces")
    report = handle.report
    from conformance.output import terminal as output

    output.matrix(out, report)
    for path in handle.written:
        err.print(f"wrote {path}", markup=False)
    _say_version_change(previous, report, settings.report_dir, err)
    from conformance.report.summary import headline

    err.print(headline(report), markup=False)
    from conformance.pytest_plugin import judged

    if not judged(report["results"]):
        # Nothing to compare or adopt: a replay without cassettes (or with none for the selected cases).
        kept = "" if handle.written else f" (the report in {settings.report_dir} was left as it was)"
        raise UsageError(f"nothing was judged: no case of {profile.name} is recorded in {settings.cassette_dir}"
                         f"{kept}; {settings.key_hint()}, then record them with:", hint=settings.record_command())
    failing = sum(report["gated_summary"].get(v, 0) for v in ("FAIL", "ERROR"))
    status = EXIT_FINDINGS if failing else EXIT_OK
    refused = _all_refused(report)
    if refused:
        err.print(f"conformance: the server refused every request (HTTP {refused}): nothing it does was judged. "
                  f"{_refusal_hint(refused, settings)}", markup=False)
        status = EXIT_FINDINGS
    if handle.deferred:  # the key's daily quota: what is left goes to the next run, said last, as a command
        err.print(f"conformance: {handle.deferred} case x surface run(s) were left for the next run (the key's daily "
                  "quota); tomorrow, record only them with:", markup=False)
        err.print(settings.record_command(), markup=False)
        return status
    if args.baseline is not None:
        if refused:
            err.print("conformance: the baseline was not compared or written: a run the server refused whole "
                      "is no baseline", markup=False)
        else:
            if baseline is not None and (args.keyword or args.surfaces or args.checks or args.exclude_checks):
                baseline = _selected_part(baseline, report)  # a run of part is compared on that part
            status = max(status, _compare(args.baseline, baseline, report, settings.report_dir, out, err))
    return status


def _selected_part(baseline: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """The baseline's results for the (case, surface) pairs this run selected (-k, --surfaces): a result the run
    did not select is not one that vanished. Every selected pair has a row in the report, a lost one included."""
    selected = {(r["case"], r["surface"]) for r in report["results"]}
    return {**baseline, "results": [r for r in baseline.get("results", []) if isinstance(r, dict)
                                    and (r.get("case"), r.get("surface")) in selected]}


def _refusal_hint(statuses: str, settings: Any) -> str:
    if "404" in statuses.split("/"):
        return (f"A 404 everywhere usually means the base URL lacks its version path (/v1, or /v1beta/openai/ for "
                f"Gemini): check --base-url ({settings.profile.base_url})")
    if set(statuses.split("/")) <= {"401", "403"}:
        return f"Check the key in {settings.profile.api_key_env} and the target's auth ({settings.profile.auth})"
    return "Check --base-url, the key and the models"


def _say_version_change(previous: dict[str, Any] | None, report: dict[str, Any], folder: Path, err: Any) -> None:
    """One line when the clients that made the replaced report differ from this run's: the report's version lines
    and the client headers of its exchanges change with them, its verdicts do not."""
    from conformance.report.diff import version_changes

    changes = version_changes(previous, report) if previous else []
    if changes:
        err.print(f"note: {folder / 'report.json'} was made with other client versions ({', '.join(changes)}): "
                  "its version lines and client headers changed; install the versions that made it with "
                  "pip install -c requirements/lock.txt (this suite's lock) to reproduce it", markup=False)


def _say_unavailable_surfaces(settings: Any, err: Any) -> None:
    from conformance.surfaces import SURFACES

    for name in settings.surfaces:
        reason = SURFACES[name].unavailable()
        if reason:
            err.print(f"note: the {name} column will be NOT RUN: {reason}", markup=False)


def _check_workers(workers: str) -> None:
    """``-n`` runs the catalogue on pytest-xdist workers, which the plain install does not bring."""
    import importlib.util

    if importlib.util.find_spec("xdist") is None:
        raise UsageError(f"-n {workers} needs pytest-xdist, which is not installed: pip install pytest-xdist "
                         "(or the dev extra: pip install 'openai-conformance[dev]')")
    if workers != "auto" and not workers.isdigit():
        raise UsageError(f"-n takes a number of workers or 'auto', not {workers!r}")


def _baseline(path: Path | None, err: Any) -> dict[str, Any] | None:
    if path is None:
        return None
    if path.is_symlink() and not path.exists():
        raise UsageError(f"--baseline {path} is a symbolic link to a file that does not exist: the baseline is "
                         "never written through a link (give the file itself)")
    if not path.exists():
        err.print(f"note: no baseline yet at {path}: this run's report becomes it", markup=False)
        return None
    from conformance.report.diff import load_report

    return load_report(path)


def _compare(path: Path, baseline: dict[str, Any] | None, report: dict[str, Any], report_dir: Path, out: Any,
             err: Any) -> int:
    from conformance.commands.diff import write_diff_markdown
    from conformance.output import terminal as output
    from conformance.report.diff import diff_reports, has_regression

    written = report_dir / "report.json"
    if baseline is None:
        if path.resolve() != written.resolve():
            from conformance.output import atomic

            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(path, written.read_text(encoding="utf-8"))  # replaces a link, never follows it
        err.print(f"baseline written: {path}", markup=False)
        return EXIT_OK
    changes = diff_reports(baseline, report)
    output.diff(out, changes)
    write_diff_markdown(changes, report_dir / "diff.md", str(path), str(written))
    return EXIT_FINDINGS if has_regression(changes) else EXIT_OK


def _all_refused(report: dict[str, Any]) -> str | None:
    """The statuses, when every answered request of a case that expects success was refused (4xx): a server that
    answers 404 (a base URL without /v1) or 401 to everything has not been judged on anything, and is no pass."""
    from conformance.catalogue import CASES

    expects_error = {c.id for c in CASES if c.expect_error}
    statuses = [(r.get("exchange") or {}).get("status") for r in report["results"]
                if r["case"] not in expects_error and r.get("exchange")]
    codes = [s for s in statuses if isinstance(s, int)]
    if codes and len(codes) == len([s for s in statuses if s is not None]) and all(400 <= s < 500 for s in codes):
        return "/".join(str(s) for s in sorted(set(codes)))
    return None


def _prepared_handle(settings: Any, saved: list[Any], tier: str | None) -> Any:
    """Settings resolved and every cassette the run may read checked, before pytest starts."""
    from conformance.cassettes import Recording
    from conformance.catalogue import CASES, select_tier
    from conformance.pytest_plugin import RunHandle
    from conformance.run.preflight import check_run

    recording = Recording(root=settings.cassette_dir, scrubber=settings.scrubber, fresh=settings.fresh,
                          provenance=settings.provenance(), sharing=settings.sharing)
    cases = select_tier(CASES, tier, settings.recording, settings.profile.catalogue) + saved
    pairs = [(case.id, surface) for case in cases for surface in settings.surfaces]
    check_run(settings, recording, pairs)
    handle = RunHandle(settings, recording)
    handle.planned = len(pairs)
    return handle


def _run_pytest(args: argparse.Namespace, settings: Any, handle: Any) -> int:
    import pytest

    from conformance.commands.progress import Progress
    from conformance.run.options import pytest_args_for

    values = {o.name: getattr(args, o.name) for o in RUN_OPTIONS}
    values["cassette_dir"], values["report_dir"] = settings.cassette_dir, settings.report_dir
    mode = "all" if args.record_mode == "rewrite" else args.record_mode
    # Only the plugins a run needs: hypothesis', tox's and anyio's pytest plugins cost startup time and do nothing
    # here; the unraisable-exception plugin runs gc.collect() several times at the end (about 0.15 s); the
    # catalogue asserts nothing with `assert`, so its modules need no rewriting.
    plugins_off = ["-p", "no:hypothesispytest", "-p", "no:tox", "-p", "no:anyio", "-p", "no:unraisableexception",
                   "--assert=plain", *([] if args.workers else ["-p", "no:xdist"])]
    # The working folder's own pytest configuration (a project's addopts) is not the catalogue's business.
    pytest_args = ["--pyargs", "conformance.suite", "-o", "addopts=", "-p", "no:cacheprovider", "-p", "no:terminal",
                   *plugins_off,
                   f"--record-mode={mode}",
                   *(["--conformance-fresh"] if settings.fresh else []),
                   *(["--conformance-no-share"] if not settings.share else []), *pytest_args_for(values)]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.workers:
        # Every surface of a case on one worker, in a row: a live run shares answers within a process.
        pytest_args += ["-n", args.workers, "--dist", "loadgroup"]
    if args.junitxml:
        pytest_args.append(f"--junitxml={args.junitxml}")
    return int(pytest.main(pytest_args, plugins=[handle, Progress(handle, make_console(stderr=True))]))


def _say_what_is_left(settings: Any, err: Any) -> None:
    """What the run made on the server (Batch API files and batches) and could not remove, however it ended."""
    from conformance.api.batches.leftovers import SUMMARY_NAME, describe, gather

    items = gather(settings.report_dir)
    if items:
        err.print(settings.scrubber.text(describe(items, settings.profile.base_url,
                                                  settings.report_dir / SUMMARY_NAME)), markup=False)


def _dry_run(args: argparse.Namespace, settings: Any, err: Any) -> int:
    """What a run would do, with no request sent: the URL, the key variable, the cases and the estimate, and every
    pre-check a real run makes that needs no server (the key set, folders and cassettes usable, the daily quota,
    how many cases a replay would find unrecorded). It exits as the run would stop: 2 where the run would."""
    from conformance.cassettes import cassette_path
    from conformance.catalogue import CASES, select_tier
    from conformance.run.settings import missing_key_message

    profile = settings.profile
    cases = select_tier(CASES, args.catalogue, settings.recording, profile.catalogue)
    pairs = [(c.id, s) for c in cases for s in settings.surfaces]
    err.print(f"dry run: {profile.name} at {profile.base_url} (chat model {profile.chat_model}, embeddings "
              f"{profile.embedding_model}); key from {profile.api_key_env}"
              f"{' or `' + profile.api_key_command + '`' if profile.api_key_command else ''}; "
              f"{'recording: ' + args.record_mode if settings.recording else 'replaying cassettes'}", markup=False)
    embeddings = f"{profile.base_url_for('embeddings').rstrip('/')}/embeddings" if profile.embedding_base_url \
        else "embeddings"
    err.print(f"would call {profile.base_url.rstrip('/')}/chat/completions (and {embeddings}, models) for "
              f"{len(pairs)} case x surface run(s) (-k not applied)", markup=False)
    from conformance.cassettes import Recording

    # Every cassette the run would read, checked whole and free of keys (folders are not created: nothing is
    # written by a dry run).
    Recording(root=settings.cassette_dir, scrubber=settings.scrubber).preflight(
        [cassette_path(settings.cassette_dir, s, c) for c, s in pairs])
    _say_unavailable_surfaces(settings, err)
    recorded = sum(1 for case, surface in pairs if cassette_path(settings.cassette_dir, surface, case).is_file())
    if settings.recording:
        if not profile.key_available():
            raise UsageError(missing_key_message(profile, args.record_mode, settings.cassette_dir))
        err.print(request_estimate(pairs, settings), markup=False)
        requests, _ = planned_requests(pairs, settings)
        if profile.rpd and requests > profile.rpd:
            kept = within_quota(pairs, settings, profile.rpd)
            err.print(quota_message(requests, settings, len(kept), len(to_send(pairs, settings)) - len(kept)),
                      markup=False)
        err.print("no request was sent; the key's model list is checked when the run starts", markup=False)
        return EXIT_OK
    err.print(f"a replay would judge {recorded} of {len(pairs)} case x surface run(s) from cassettes in "
              f"{settings.cassette_dir}; {len(pairs) - recorded} are not recorded", markup=False)
    err.print("no request was sent", markup=False)
    if not recorded:
        raise UsageError(f"nothing would be judged: no case of {profile.name} is recorded in "
                         f"{settings.cassette_dir}; {settings.key_hint()}, then record them with:",
                         hint=settings.record_command())
    return EXIT_OK


def check_models(settings: Any, err: Any) -> None:
    """Before a live run: does the key's model list (GET /models) hold the profile's models? A model the key
    cannot use would make every case an error: stop first, naming the ones it has. A server without the endpoint
    is told so and the run goes on. A target with a second server for embeddings has each list checked for the
    model that server is for."""
    profile = settings.profile
    wanted: dict[str, list[str]] = {}
    for model, endpoint in ((profile.chat_model, "chat/completions"), (profile.embedding_model, "embeddings")):
        if model:
            wanted.setdefault(profile.base_url_for(endpoint), []).append(model)
    for base_url, models in wanted.items():
        _check_model_list(settings, err, base_url, models)


def _check_model_list(settings: Any, err: Any, base_url: str, models: list[str]) -> None:
    """GET /models with the run's key, before anything is written: a refused key (401/403) or a base URL that is
    not the API's (404, typically without /v1) stops the run with exit 2; a model the key cannot use stops it too.
    A server without a model list (another status, or a 404 under a versioned path) is told so and runs."""
    from conformance.output.console import visible

    url = base_url.rstrip("/") + "/models"
    answer = _get_json(settings, url)
    if isinstance(answer, str):  # the catalogue's own models cases judge the endpoint; here it only informs
        err.print(f"note: could not list the models at {settings.scrubber.url(url)} ({answer}); not checked",
                  markup=False)
        return
    status, body = answer
    profile = settings.profile
    if status in (401, 403):
        raise UsageError(settings.scrubber.text(
            f"the server refused the key in {profile.api_key_env} (HTTP {status} on GET {url}"
            f"{_error_message(body)}): nothing was sent or written; check the key and the target's auth "
            f"({profile.auth}), then run again with:"), hint=settings.record_command())
    if status == 404:
        suggestion = _versioned_url(settings, base_url)
        if suggestion or not _has_version_segment(base_url):
            where = (f"the API answers at {suggestion}" if suggestion else
                     "an OpenAI-compatible base URL usually ends in its version path (/v1/, or /v1beta/openai/ "
                     "for Gemini)")
            raise UsageError(settings.scrubber.text(
                f"GET {url} answered 404: the base URL probably lacks /v1 ({where}); nothing was sent or written; "
                "run again with the right base URL:"),
                hint=_with_base_url(settings, suggestion or base_url.rstrip("/") + "/v1/"))
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        err.print(f"note: GET /models answered HTTP {status} without a model list: the profile's models were not "
                  "checked", markup=False)
        return
    ids = {visible(str(m.get("id", "")))[:200].removeprefix("models/") for m in data[:10_000] if isinstance(m, dict)}
    missing = [m for m in models if m.removeprefix("models/") not in ids]
    if missing:
        shown = ", ".join(sorted(ids)[:20]) + (f" (and {len(ids) - 20} more)" if len(ids) > 20 else "")
        raise UsageError(settings.scrubber.text(
            f"the key's model list at {url} has no {' and no '.join(missing)}: give --chat-model / "
            f"--embedding-model (or fix the profile) with one of: {shown or 'none'}"))


def _get_json(settings: Any, url: str) -> tuple[int, Any] | str:
    """(status, decoded JSON body or None), or why the request failed. The body is bounded (8 MB) and decoded
    with the suite's depth-checked reader."""
    from conformance.wire.sse import loads_checked
    from conformance.wire.transport import Limits, classify_exception, new_client

    profile, key = settings.profile, settings.api_key
    try:
        with new_client("httpx", Limits(min(settings.timeout_s, 30), 8_000_000), {"request": [], "response": []}) \
                as client:
            answer = client.get(url, headers=profile.auth_headers(key), params=profile.auth_query(key))
            status, text = answer.status_code, answer.text
    except Exception as exc:
        return classify_exception(exc)[1][:120]
    try:
        body, _ = loads_checked(text)
    except (ValueError, RecursionError, TypeError):
        body = None
    return status, body


def _error_message(body: Any) -> str:
    from conformance.output.console import visible

    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    return f": {visible(message)[:160]}" if isinstance(message, str) and message else ""


def _has_version_segment(base_url: str) -> bool:
    import re
    from urllib.parse import urlsplit

    return any(re.fullmatch(r"v\d+[a-z0-9]*", part) for part in urlsplit(base_url).path.split("/"))


def _versioned_url(settings: Any, base_url: str) -> str | None:
    """``base_url`` + ``v1/`` when that answers GET /models with a model list (one more request, same key)."""
    candidate = base_url.rstrip("/") + "/v1/"
    if _has_version_segment(base_url):
        return None
    answer = _get_json(settings, candidate + "models")
    if isinstance(answer, tuple) and answer[0] == 200 and isinstance(answer[1], dict) \
            and isinstance(answer[1].get("data"), list):
        return candidate
    return None


def _with_base_url(settings: Any, base_url: str) -> str:
    from conformance.run.settings import shell_command

    selector = settings.profile.selector()
    if "--base-url" in selector:
        selector[selector.index("--base-url") + 1] = base_url
    else:
        selector += ["--base-url", base_url]
    return shell_command(["conformance", "run", *selector, "--record-mode=once"])


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
