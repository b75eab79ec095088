"""Raw REST with httpx: exactly the documentation's curl requests, no SDK in between."""

from __future__ import annotations

from conformance.catalogue.model import Case
from conformance.surfaces.base import RunEnv, SurfaceOutcome, classify_exception


class RestSurface:
    name = "rest"
    label = "REST (httpx)"

    def unavailable(self) -> str | None:
        return None

    def run(self, case: Case, env: RunEnv) -> SurfaceOutcome:
        capture = env.capture(case)
        outcome = SurfaceOutcome(exchanges=capture.exchanges)
        headers = {**env.auth_headers(case), "Content-Type": "application/json"}
        try:
            with env.client(capture) as client:
                if case.is_upload:  # multipart/form-data, as the documentation's curl -F does
                    upload = case.request_body(env.profile)
                    client.post(env.url_for(case), headers=env.auth_headers(case), params=env.auth_query(case),
                                data={"purpose": upload["purpose"]},
                                files={"file": (upload["file"]["filename"], upload["file"]["content"].encode(),
                                                "application/jsonl")})
                elif case.method in ("GET", "DELETE"):
                    client.request(case.method, env.url_for(case), headers=headers, params=env.auth_query(case))
                else:
                    client.post(env.url_for(case), json=case.request_body(env.profile), headers=headers,
                                params=env.auth_query(case))
        except Exception as exc:
            capture.note_error(exc)
            outcome.error_kind, outcome.error = classify_exception(exc)
            outcome.error = env.scrubber.text(outcome.error)
        outcome.message = answered_message(outcome, case)
        return outcome


def answered_message(outcome: SurfaceOutcome, case: Case) -> dict | None:
    """What a REST client holds after a 2xx answer in a conversation: the raw JSON its family's conversation rule
    reads (chat: the message, a stream's deltas joined by hand; Responses: the response object)."""
    from conformance.api import families

    rule = families.part_of(case.operation.family, "conversation")
    exchange = outcome.exchange
    if not case.echoes or rule is None or exchange is None or exchange.error or \
            not 200 <= (exchange.status or 0) < 300:
        return None  # only a conversation echoes the message; a cut or unjudged answer has none
    message: dict | None = rule.raw_json_message(exchange.response_body, case.stream)
    return message
