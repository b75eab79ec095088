"""Sending one request through a surface: retries on 429/503, what went on the wire, the SDK's reading beside it.

Every scenario (a single exchange, a conversation's steps, a batch lifecycle's steps) sends through here, so a
retry, a pause and the comparison of the SDK's reading with the exchange happen the same way for each request.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import time
from typing import Any

from conformance.catalogue.model import Case
from conformance.run.settings import Settings
from conformance.surfaces import RunEnv, Surface, SurfaceOutcome
from conformance.wire.transport import FailureKind


def sent_request(outcome: SurfaceOutcome, fallback: dict[str, Any]) -> dict[str, Any]:
    """The body that went on the wire: SDKs add their defaults (the Python SDK asks embeddings for base64)."""
    if outcome.exchange is not None:
        try:
            sent = json.loads(outcome.exchange.request_body)
        except ValueError:
            return fallback
        if isinstance(sent, dict):
            return sent
    return fallback


RETRY_STATUSES = (429, 503)


def run_with_retries(surface: Surface, case: Case, env: RunEnv, settings: Settings) -> tuple[SurfaceOutcome, list[int]]:
    """Retry 429/503 with exponential backoff honouring Retry-After, bounded in attempts and in total waiting.

    Live, every attempt is recorded; a replay makes the same attempts without waiting. A replay that runs out of
    recorded attempts keeps the last recorded answer.
    """
    statuses: list[int] = []
    waited = 0.0
    outcome = _sent(surface, case, env)
    while len(statuses) < settings.retries:
        status = outcome.exchange.status if outcome.exchange else None
        if status not in RETRY_STATUSES:
            break
        wait = retry_delay(outcome.exchange.response_headers if outcome.exchange else {}, len(statuses))
        if settings.recording:
            if waited + wait > settings.retry_budget_s:
                break
            time.sleep(wait)
            waited += wait
        statuses.append(status)
        retried = _sent(surface, case, env)
        if not settings.recording and retried.error_kind is FailureKind.NOT_RECORDED:
            statuses.pop()
            break
        outcome = retried
    return outcome, statuses


def _sent(surface: Surface, case: Case, env: RunEnv) -> SurfaceOutcome:
    """One request through a surface, and what its SDK read set beside the exchange: the comparison lives here,
    once for every surface."""
    from conformance.api.chat.reading import sdk_findings

    outcome = surface.run(case, env)
    outcome.findings.extend(sdk_findings(outcome, case, env.scrubber))
    return outcome


def retry_delay(headers: dict[str, str], attempt: int, base_s: float = 1.0, cap_s: float = 30.0) -> float:
    """Retry-After (seconds or an HTTP date) when the server gives one, else 1 s, 2 s, 4 s ... up to the cap."""
    value = headers.get("retry-after", "").strip()
    if value:
        try:
            seconds = float(value)
            if not math.isfinite(seconds):  # "nan", "inf": not a delay a server can mean
                return min(base_s * 2**attempt, cap_s)
            return min(max(seconds, 0.0), cap_s)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return min(max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0), cap_s)
            except (TypeError, ValueError):
                pass
    return min(base_s * 2**attempt, cap_s)
