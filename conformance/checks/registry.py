"""The registry of behavioural checks: small pure functions with stable ids.

A check sees one response (and, when it has one, the request that produced it) and returns findings. Ids are
stable because reports, baselines and known-gaps manifests refer to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from conformance.api import OPERATIONS
from conformance.model.errors import ConformanceError
from conformance.model.expectations import Expectations
from conformance.model.findings import Finding, Severity

if TYPE_CHECKING:
    from conformance.api.chat.stream import StreamedChoice

# The kinds of response a check can look at: every answer kind an operation of conformance.api declares, and the
# error body any of them can give instead.
KINDS = ("error", *dict.fromkeys(kind for op in OPERATIONS.values() for kind in (op.answer, op.streamed) if kind))


@dataclass
class CheckContext:
    """Everything a check may look at. ``request`` is None when a captured response is checked on its own."""

    kind: str
    body: Any = None
    operation: str = ""  # the operation answered (conformance.api), where known: "" for a capture judged alone
    chunks: list[Any] = field(default_factory=list)
    done: bool = False
    truncated: bool = False
    stream_problems: list[tuple[int, str]] = field(default_factory=list)
    request: dict[str, Any] | None = None
    status: int | None = None
    expect: Expectations = field(default_factory=Expectations)
    selection: Selection | None = None  # which checks run (None: all)
    content_type: str | None = None  # None when a captured body is checked without its headers
    encoding_problem: str | None = None  # the body is not UTF-8, or declares another charset
    duplicate_keys: list[tuple[int | None, str]] = field(default_factory=list)  # (chunk number or None, key)
    stray_lines: list[tuple[int, str]] = field(default_factory=list)  # stream lines that are no SSE field
    events_after_done: int = 0
    event_names: list[str | None] = field(default_factory=list)  # each chunk's SSE ``event:`` field (None: none)
    stream_error: tuple[int, str] | None = None  # an error the server reported inside the stream
    trailing: str = ""  # what followed a JSON body's value (sse.loads_leading): refused by every strict reader
    # How an answer inside this one is judged (a batch output line's body): run_checks, handed in by run_checks, so
    # that a check that judges nested answers needs no import of the whole registry.
    judge_nested: Callable[[CheckContext], list[Finding]] | None = None
    # What a family derives once per answer for several of its checks (a stream's fold...), by the family's key.
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def has_request(self) -> bool:
        return self.request is not None

    @cached_property
    def streamed(self) -> dict[int, StreamedChoice]:
        """The stream folded into its choices, once per response: about ten checks read it."""
        from conformance.api.chat.stream import assemble

        return assemble(self.chunks)


CheckFunc = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    id: str
    kinds: tuple[str, ...]
    func: CheckFunc | None  # None for findings produced elsewhere (schema validation, the SDK surfaces)
    severity: Severity
    needs_request: bool
    doc: str
    source: str = ""  # the spec section, recorded OpenAI behaviour or public report that grounds the check
    # "contract": must hold for every answer whatever the model does (schema, framing, SDK usability, error shape,
    # arithmetic); "behaviour": depends on what a sampled model chose (to call a tool, to make two calls, ...), so
    # over repeated samples it has a rate, judged as one (see conformance.model.samples and the gate).
    nature: str = "contract"
    # For a behaviour: whether a request (and the case's expectations) exercises it, so that its rate is reported
    # for every case that asks for it, including the samples where it held.
    applies: Callable[[dict[str, Any], Expectations], bool] | None = None

    def run(self, ctx: CheckContext) -> list[Finding]:
        if self.func is None:
            return []
        try:
            return list(self.func(ctx))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a check's own bug costs its case the verdict (ERROR), never the row
            raise CheckCrashed(self.id, exc) from exc


class CheckCrashed(ConformanceError):
    def __init__(self, check_id: str, exc: BaseException) -> None:
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        super().__init__(f"check {check_id} raised {type(exc).__name__}: {detail} (a bug of the suite: please "
                         "report it with the cassette)")
        self.check_id = check_id


REGISTRY: dict[str, Check] = {}
NATURES = ("contract", "behaviour")


DEFAULT_SOURCES = {
    "schema": "OpenAI OpenAPI spec openai-openapi@f85dbe2, components/schemas",
    "chat": "OpenAI API reference, Chat Completions: the chat completion object",
    "stream": "OpenAI API reference, Chat Completions: the chat completion chunk object; Streaming",
    "tools": "OpenAI guide, Function calling; API reference `tools`, `tool_choice`",
    "embeddings": "OpenAI API reference, Embeddings: the embedding object",
    "errors": "OpenAI guide, Error codes; genuine OpenAI error bodies (shared/reference/openai-recordings)",
    "http": "RFC 9110 (Content-Type), RFC 8259 (JSON text), OpenAI API reference",
    "json": "RFC 8259 section 4",
    "sdk": "the OpenAI Python and Node.js SDKs' own parsing of the exchange",
    "models": "OpenAI API reference, Models: list models, retrieve model, the model object",
}


def _source(check_id: str, source: str) -> str:
    return source or DEFAULT_SOURCES.get(check_id.split(".", 1)[0], "")


def _first_line(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def check(
    check_id: str,
    *kinds: str,
    severity: Severity = Severity.DEVIATION,
    needs_request: bool = False,
    source: str = "",
    nature: str = "contract",
    applies: Callable[[dict[str, Any], Expectations], bool] | None = None,
) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check under a stable id for the response kinds it applies to."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"check {check_id}: unknown kinds {sorted(unknown)}")
    if nature not in NATURES:
        raise ValueError(f"check {check_id}: nature must be one of {NATURES}")
    if (nature == "behaviour") != (applies is not None):
        raise ValueError(f"check {check_id}: a behaviour check says when it applies (applies=), a contract does not")

    def register(func: CheckFunc) -> CheckFunc:
        if check_id in REGISTRY:
            raise ValueError(f"duplicate check id {check_id}")
        REGISTRY[check_id] = Check(check_id, tuple(kinds), func, severity, needs_request, _first_line(func.__doc__),
                                   _source(check_id, source), nature, applies)
        return func

    return register


def declare(check_id: str, doc: str, *, severity: Severity = Severity.DEVIATION, source: str = "") -> None:
    """Register a check whose findings are produced outside the registry's run (schemas, SDK surfaces), so that
    every id a report can hold is one namespace, listed and selectable like the others."""
    if check_id in REGISTRY:
        raise ValueError(f"duplicate check id {check_id}")
    REGISTRY[check_id] = Check(check_id, (), None, severity, False, doc, _source(check_id, source))


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
    """A finding whose severity defaults to the one its check was registered with; an unknown id is a bug."""
    registered = REGISTRY.get(check_id)
    if registered is None:
        raise KeyError(f"finding for unregistered check id {check_id!r}")
    return Finding(check_id, pointer, message, severity or registered.severity, expected, seen, event,
                   nature=registered.nature)


def behaviour_expectations(request: dict[str, Any], expect: Expectations,
                           selection: Selection | None = None) -> list[str]:
    """The behaviour checks a request exercises: each gets a pass rate over the samples of a repeated case."""
    chosen = selection or ALL_CHECKS
    return [c.id for c in REGISTRY.values() if c.applies is not None and chosen.selected(c.id)
            and c.applies(request, expect)]


# The order checks run in, and so the order of findings in every report: the check modules in this order, then
# any other (a family added since) by module name; within a module, the order its checks are defined in. Fixed
# here, so that it does not depend on which module a process happened to import first.
MODULE_ORDER = ("conformance.api.batches.checks", "conformance.api.chat.checks", "conformance.api.chat.relations",
                "conformance.api.chat.stream_checks", "conformance.api.chat.tools",
                "conformance.api.embeddings.checks", "conformance.api.images.checks", "conformance.api.models.checks",
                "conformance.checks.agreement", "conformance.checks.declared", "conformance.checks.error_bodies",
                "conformance.checks.http")


def _rank(registered: Check) -> tuple[int, int, str]:
    module = registered.func.__module__ if registered.func is not None else ""
    return (0, MODULE_ORDER.index(module), "") if module in MODULE_ORDER else (1, 0, module)


def checks_for(kind: str, *, with_request: bool, selection: Selection | None = None) -> list[Check]:
    chosen = selection or ALL_CHECKS
    return [c for c in sorted(REGISTRY.values(), key=_rank) if kind in c.kinds
            and (with_request or not c.needs_request) and c.func is not None and chosen.selected(c.id)]


@dataclass(frozen=True)
class Selection:
    """Which checks a run judges with (``--checks`` / ``--exclude-checks``): fnmatch globs over ids; an empty include
    means all. Held by the run's settings and handed to each check context, never kept in a module."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selected(self, check_id: str) -> bool:
        from fnmatch import fnmatchcase

        if self.include and not any(fnmatchcase(check_id, p) for p in self.include):
            return False
        return not any(fnmatchcase(check_id, p) for p in self.exclude)


ALL_CHECKS = Selection()


def select(include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Selection:
    """A selection; KeyError (the pattern) when a pattern names no registered check."""
    from fnmatch import fnmatchcase

    for pattern in (*include, *exclude):
        if not any(fnmatchcase(check_id, pattern) for check_id in REGISTRY):
            raise KeyError(pattern)
    return Selection(tuple(include), tuple(exclude))
