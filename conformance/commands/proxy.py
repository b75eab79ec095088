"""``conformance proxy``: the recording proxy for any HTTP client, until Ctrl-C."""

from __future__ import annotations

import argparse
import time
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.exit_codes import EXIT_OK
from conformance.output.console import make_console
from conformance.run import interrupt


def command_proxy(args: argparse.Namespace) -> int:
    """Every exchange goes through the suite's cassette layer, scrubbed and matched as in a run."""
    from conformance.cassettes import Recording, check_cassette, new_recorder, vcr_config
    from conformance.run.profiles import load_profile
    from conformance.run.settings import REPLAY_KEY, missing_key_message
    from conformance.wire.exchange import Capture
    from conformance.wire.proxy import CLIENT_KEY, RecordingProxy
    from conformance.wire.scrub import Scrubber
    from conformance.wire.transport import origin

    models = {"chat_model": "-", "embedding_model": "-"} if args.target is None and args.base_url else {}
    profile = load_profile(args.target, base_url=args.base_url, api_key_env=args.api_key_env, **models)
    key = profile.api_key()
    if args.record_mode != "none" and not key:
        raise UsageError(missing_key_message(profile, args.record_mode))
    if args.record_mode == "none" and not args.cassette.is_file():
        raise UsageError(f"no cassette {args.cassette} to replay: record it first with --record-mode once")
    scrubber = Scrubber([key])
    if args.cassette.is_file():
        check_cassette(args.cassette, scrubber)
    folder = args.cassette.resolve().parent
    recording = Recording(root=folder, scrubber=scrubber,
                          provenance={"target": profile.name, "base_url": profile.base_url, "via": "proxy"})
    recorder = new_recorder(recording, args.record_mode, add_suffix=False)
    capture = Capture(scrubber, origin(profile.base_url))
    secret = key or REPLAY_KEY
    headers, query = profile.auth_headers(secret), profile.auth_query(secret)
    out = make_console()
    recording_live = args.record_mode != "none"
    with recorder.use_cassette(args.cassette.resolve().name, **vcr_config(scrubber)) as cassette, \
            RecordingProxy(profile.base_url, headers, query, capture, args.timeout, port=args.port) as proxy:
        out.print(f"proxy for {profile.name} at {proxy.base_url} (API key: any value, e.g. {CLIENT_KEY}; the URL "
                  f"is the proxy's secret); {'replaying' if not recording_live else 'recording'} {args.cassette}; "
                  "Ctrl-C stops", markup=False)
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                before, seen = seen, _print_new(out, capture, seen)
                if recording_live and seen > before:
                    _save(cassette)
        except KeyboardInterrupt:  # the way to stop the proxy: what was recorded is saved as usual
            interrupt.reset()
    seen = _print_new(out, capture, seen, final=True)
    out.print(f"proxy stopped after {seen} exchange(s)", markup=False)
    return EXIT_OK


def _save(cassette: object) -> None:
    """Every finished exchange on disk as soon as it is printed, written whole (atomically, signals held back):
    a Ctrl-C, or two in a row, later loses nothing that was already shown."""
    with interrupt.deferred():
        cassette._save(force=True)  # type: ignore[attr-defined]


def _print_new(out: object, capture: object, seen: int, *, final: bool = False) -> int:
    """Print the exchanges that have ended since the last call (in order); return how many are printed in all."""
    exchanges = list(capture.exchanges)  # type: ignore[attr-defined]
    for exchange in exchanges[seen:]:
        if exchange.status is None and exchange.error is None and not final:
            break  # still in flight: printed once it has its answer
        status = exchange.status if exchange.status is not None else (exchange.error or "no answer")
        out.print(f"{exchange.method} {exchange.url} -> {status}{_judged(exchange)}",  # type: ignore[attr-defined]
                  markup=False)
        seen += 1
    return seen


def _judged(exchange: Any) -> str:
    """What the exchange's answer is and what is wrong with it, judged as a run judges it (from its request)."""
    if exchange.status is None or exchange.error:
        return ""
    from conformance.judge.validate import judge_exchange

    result = judge_exchange(exchange)
    if result.notes and not result.findings:
        return f" ({result.kind}; {result.notes[-1]})"
    if not result.findings:
        return f" ({result.kind}: no finding)"
    shown = "; ".join(f"{f.check} at {f.where()}" for f in result.findings[:3])
    more = f"; {len(result.findings) - 3} more" if len(result.findings) > 3 else ""
    return f" ({result.kind}: {len(result.findings)} finding(s): {shown}{more})"
