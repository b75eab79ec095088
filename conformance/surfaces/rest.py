"""Raw REST with httpx: exactly the documentation's curl requests, no SDK in between."""

from __future__ import annotations

import httpx

from conformance.catalogue.model import Case
from conformance.exchange import Capture
from conformance.surfaces.base import RunEnv, SurfaceOutcome, classify_exception, tls_context


class RestSurface:
    name = "rest"
    label = "REST (httpx)"

    def unavailable(self) -> str | None:
        return None

    def run(self, case: Case, env: RunEnv) -> SurfaceOutcome:
        capture = Capture(env.scrubber)
        outcome = SurfaceOutcome(exchanges=capture.exchanges)
        headers = {**env.auth_headers(case), "Content-Type": "application/json"}
        try:
            with httpx.Client(event_hooks=capture.hooks, timeout=env.timeout_s, verify=tls_context()) as client:
                client.post(env.url_for(case), json=case.request_body(env.profile), headers=headers,
                            params=env.auth_query(case))
        except Exception as exc:
            capture.note_error(exc)
            outcome.error_kind, outcome.error = classify_exception(exc)
            outcome.error = env.scrubber.text(outcome.error)
        return outcome
