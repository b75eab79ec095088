"""How many requests a live run sends, how long that takes at its pace, and which runs fit a key's daily quota.

Read before the first request (by the progress display) and by a dry run; it reads the catalogue and the
settings, never the run's results.
"""

from __future__ import annotations

from typing import Any


def to_send(pairs: list[tuple[str, str]], settings: Any) -> list[tuple[str, str]]:
    """The case x surface runs a live run sends: with --record-mode once (or new_episodes) a recorded cassette is
    replayed, not sent, so a run that stopped (a daily quota) goes on where it stopped."""
    from conformance.cassettes import cassette_path

    if settings.fresh or settings.record_mode not in ("once", "new_episodes"):
        return pairs
    return [(c, s) for c, s in pairs if not cassette_path(settings.cassette_dir, s, c).is_file()]


def planned_requests(pairs: list[tuple[str, str]], settings: Any) -> tuple[int, int]:
    """(requests a live run sends, requests without sharing). A conversation sends one request per step; with
    sharing (the default) the surfaces of a case send its requests once between them. Recorded cases that the
    record mode replays are not counted."""
    from conformance.api.batches.lifecycle import planned_batch_requests
    from conformance.catalogue import CASES

    pairs = to_send(pairs, settings)
    steps = {case.id: planned_batch_requests(settings.batch_wait_s) if case.is_batch else 1 + len(case.steps)
             for case in CASES}
    batches = {case.id for case in CASES if case.is_batch}  # each surface's batch is its own: never shared
    every = sum(steps.get(case, 1) for case, _ in pairs) * settings.repeat
    distinct = (sum(steps.get(case, 1) for case in dict.fromkeys(c for c, _ in pairs) if case not in batches)
                + sum(steps[case] for case, _ in pairs if case in batches)) * settings.repeat
    return (distinct if settings.share else every), every


def request_estimate(pairs: list[tuple[str, str]], settings: Any) -> str:
    """Before the first request: how many a live run sends, and how long that takes at its pace (diagnosing a
    refused conversation step and retries come on top)."""
    requests, every = planned_requests(pairs, settings)
    pairs = to_send(pairs, settings)
    cases = len(dict.fromkeys(c for c, _ in pairs))
    if settings.share:
        count = (f"{requests} distinct request(s) ({cases} case(s) x steps x {settings.repeat} sample(s); the "
                 f"{len(pairs)} case x surface runs share each answer, {every} without sharing (--no-share); "
                 "retries come on top)")
    else:
        count = f"{requests} request(s) ({len(pairs)} case x surface x steps x {settings.repeat} sample(s), not shared)"
    if not settings.rpm:
        return f"{count}, unpaced (give --rpm N to stay under a key's per-minute limit)"
    minutes = requests / settings.rpm
    source = f"; {settings.profile.rpm_source}" if settings.rpm == settings.profile.rpm and \
        settings.profile.rpm_source else ""
    return f"{count} at {settings.rpm:g} per minute{source}: about {_duration(minutes * 60)}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def within_quota(pairs: list[tuple[str, str]], settings: Any, budget: int) -> set[tuple[str, str]]:
    """The runs a live run sends when the key allows ``budget`` requests today: whole cases, in catalogue order,
    while their requests fit (a case's surfaces share its answers; a batch is each surface's own)."""
    from conformance.api.batches.lifecycle import planned_batch_requests
    from conformance.catalogue import CASES

    steps = {case.id: (planned_batch_requests(settings.batch_wait_s), True) if case.is_batch
             else (1 + len(case.steps), False) for case in CASES}
    by_case: dict[str, list[tuple[str, str]]] = {}
    for pair in to_send(pairs, settings):
        by_case.setdefault(pair[0], []).append(pair)
    kept: set[tuple[str, str]] = set()
    spent = 0
    for case, runs in by_case.items():
        each, own = steps.get(case, (1, False))
        cost = (each * len(runs) if own or not settings.share else each) * settings.repeat
        if spent + cost > budget:
            break
        spent += cost
        kept.update(runs)
    return kept


def quota_message(requests: int, settings: Any, sent: int, deferred: int) -> str:
    profile = settings.profile
    source = f" ({profile.rpd_source})" if profile.rpd_source else ""
    return (f"this live run would send {requests} requests, more than the {profile.rpd} a day {profile.name}'s key "
            f"allows{source}: it sends the cases that fit ({sent} case x surface runs) and leaves {deferred} NOT RUN; "
            f"the next --record-mode once run records only those (requests already made today count against the "
            f"quota too)")
