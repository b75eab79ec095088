"""What a client surface is: something that sends a case's request its own way and reports what happened.

Every surface is judged on the same raw exchange (captured below the client), plus whatever its own client
library made of the answer: an SDK that raises on a server's response is a finding about that server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from conformance.catalogue.model import INVALID_API_KEY, Case
from conformance.model.findings import Finding
from conformance.run.options import DEFAULT_MAX_BODY_MB, DEFAULT_TIMEOUT_S
from conformance.run.profiles import Profile
from conformance.wire.exchange import Capture, Exchange
from conformance.wire.scrub import Scrubber
from conformance.wire.transport import FailureKind, Limits, classify_exception, new_client, origin

__all__ = ["RunEnv", "Surface", "SurfaceOutcome", "classify_exception"]


@dataclass
class RunEnv:
    """What every surface needs to reach the target."""

    profile: Profile
    api_key: str
    scrubber: Scrubber
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1_000_000)
    share: Any = None  # a live run's ShareContext for this surface's sample (conformance/wire/sharing.py), or None

    @property
    def limits(self) -> Limits:
        return Limits(self.timeout_s, self.max_body_bytes)

    def capture(self, case: Case) -> Capture:
        """A capture that only lets requests go to the origin of the server the case's endpoint lives on."""
        return Capture(self.scrubber, origin(self.profile.server_url(case.operation.server)))

    def client(self, capture: Capture, kind: str = "httpx", *, follow_redirects: bool = False,
               strip_auth: bool = False) -> Any:
        """``strip_auth``: the keyless case on an SDK that always sends a key; the header is removed on the wire."""
        hooks = capture.hooks
        if strip_auth:
            hooks = {**hooks, "request": [_strip_auth, *hooks["request"]]}
        return new_client(kind, self.limits, hooks, follow_redirects=follow_redirects, share=self.share)


    def key_for(self, case: Case) -> str:
        return INVALID_API_KEY if case.invalid_key else self.api_key

    def url_for(self, case: Case) -> str:
        return self.profile.server_url(case.operation.server).rstrip("/") + "/" + case.path(self.profile)

    def auth_headers(self, case: Case) -> dict[str, str]:
        return {} if case.no_key else self.profile.auth_headers(self.key_for(case))

    def auth_query(self, case: Case) -> dict[str, str]:
        return {} if case.no_key else self.profile.auth_query(self.key_for(case))


def _strip_auth(request: Any) -> None:
    from conformance.wire.scrub import SECRET_HEADERS

    for name in SECRET_HEADERS:
        request.headers.pop(name, None)


@dataclass
class SurfaceOutcome:
    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # A failure of the exchange itself (transport.FailureKind: timeout, connection, not recorded, surface, ...).
    error_kind: FailureKind | None = None
    error: str | None = None
    sdk: dict[str, Any] = field(default_factory=dict)
    # The first choice's assistant message as this surface's client returned it (plain data): what a
    # conversation's next request echoes. None when the client returned none.
    message: dict[str, Any] | None = None
    # What the surface's SDK read of a chat answer (oracle.sdk_reading's plain data), and the SDK's name: the runner
    # sets it beside the exchange's conformant reading (one comparison for every surface). None: no SDK reading.
    sdk_choices: list[dict[str, Any]] | None = None
    sdk_label: str = ""

    @property
    def exchange(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None


class Surface(Protocol):
    name: str
    label: str

    def unavailable(self) -> str | None:
        """Why this surface cannot run on this machine (None when it can)."""

    def run(self, case: Case, env: RunEnv) -> SurfaceOutcome: ...
