"""The registry of behavioural checks: small pure functions with stable ids.

A check sees one response (and, when it has one, the request that produced it) and returns findings. Ids are
stable because reports, baselines and known-gaps manifests refer to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.findings import Finding, Severity

# The kinds of response a check can look at.
KINDS = ("chat.completion", "stream", "embeddings", "error")


@dataclass
class CheckContext:
    """Everything a check may look at. ``request`` is None when a captured response is checked on its own."""

    kind: str
    body: Any = None
    chunks: list[Any] = field(default_factory=list)
    done: bool = False
    truncated: bool = False
    stream_problems: list[tuple[int, str]] = field(default_factory=list)
    request: dict[str, Any] | None = None
    status: int | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = None  # None when a captured body is checked without its headers
    encoding_problem: str | None = None  # the body is not UTF-8, or declares another charset
    duplicate_keys: list[tuple[int | None, str]] = field(default_factory=list)  # (chunk number or None, key)
    stray_lines: list[tuple[int, str]] = field(default_factory=list)  # stream lines that are no SSE field
    events_after_done: int = 0
    stream_error: tuple[int, str] | None = None  # an error the server reported inside the stream

    @property
    def has_request(self) -> bool:
        return self.request is not None


CheckFunc = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    id: str
    kinds: tuple[str, ...]
    func: CheckFunc
    severity: Severity
    needs_request: bool
    doc: str

    def run(self, ctx: CheckContext) -> list[Finding]:
        try:
            return list(self.func(ctx))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a check's own bug costs its case the verdict (ERROR), never the row
            raise CheckCrashed(self.id, exc) from exc


class CheckCrashed(Exception):
    def __init__(self, check_id: str, exc: BaseException) -> None:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        super().__init__(f"check {check_id} raised {type(exc).__name__}: {detail} (a bug of the suite: please "
                         "report it with the cassette)")
        self.check_id = check_id


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    *kinds: str,
    severity: Severity = Severity.DEVIATION,
    needs_request: bool = False,
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check under a stable id for the response kinds it applies to."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"check {check_id}: unknown kinds {sorted(unknown)}")

    def register(func: CheckFunc) -> CheckFunc:
        if check_id in REGISTRY:
            raise ValueError(f"duplicate check id {check_id}")
        doc = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        REGISTRY[check_id] = Check(check_id, tuple(kinds), func, severity, needs_request, doc)
        return func

    return register


def finding(
    check_id: str,
    pointer: str,
    message: str,
    *,
    expected: Any = None,
    seen: Any = None,
    event: int | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding whose severity defaults to the one its check was registered with."""
    registered = REGISTRY.get(check_id)
    default = registered.severity if registered else Severity.DEVIATION
    return Finding(check_id, pointer, message, severity or default, expected, seen, event)


def checks_for(kind: str, *, with_request: bool) -> list[Check]:
    return [c for c in REGISTRY.values() if kind in c.kinds and (with_request or not c.needs_request)]
