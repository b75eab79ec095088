"""What every HTTP client of the suite shares: one TLS context, and one way to name a transport failure."""

from __future__ import annotations

import ssl
from functools import cache


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """(kind, one-line message) for an exception raised while talking to the target."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if type(item).__name__ == "CannotOverwriteExistingCassetteException":
            return "not_recorded", "the cassette has no recorded exchange matching this request"
    # The deepest cause says most (an SDK's "Connection error." wraps the transport's own words).
    for item in reversed(chain):
        name = type(item).__name__
        if "Timeout" in name:
            return "timeout", f"timed out ({name})"
    for item in reversed(chain):
        name = type(item).__name__
        if name in ("RemoteProtocolError", "ReadError", "DecodingError", "LocalProtocolError", "ConnectError",
                    "ConnectionRefusedError", "ConnectionResetError") or "Connection" in name:
            return "connection", f"{name}: {str(item).splitlines()[0] if str(item) else 'connection failed'}"
    message = str(exc).splitlines()[0] if str(exc) else ""
    return "surface", f"{type(exc).__name__}: {message}"[:300]


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle for every client costs more than replaying a case."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
