"""The OpenAI API as the suite knows it: one module per endpoint family, each declaring its operations.

``operation_for`` finds the operation a case's path (and method) names; ``OPERATIONS`` lists them all. A new family
is a new module here with its operations, one entry in each surface's call table, and the stand-in's answers.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.api.operation import Answer, Operation

__all__ = ["ANSWERS", "OPERATIONS", "Answer", "Operation", "event_kind", "is_stream", "operation", "operation_for",
           "streamed_kind", "unstreamed"]


def _declared() -> tuple[dict[str, Operation], dict[str, Answer]]:
    """Every family package of this package, with the operations and answer kinds its ``__init__`` declares: a new
    family is a new package, found here without an edit."""
    operations: dict[str, Operation] = {}
    answers: dict[str, Answer] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg):
        family = importlib.import_module(f"{__name__}.{module}")
        for op in family.OPERATIONS:
            if op.id in operations:
                raise ValueError(f"operation {op.id} is declared twice")
            operations[op.id] = op
        for answer in getattr(family, "ANSWERS", ()):
            if answer.kind in answers:
                raise ValueError(f"answer kind {answer.kind} is declared twice")
            answers[answer.kind] = answer
    return operations, answers


OPERATIONS, ANSWERS = _declared()


def operation(operation_id: str) -> Operation:
    try:
        return OPERATIONS[operation_id]
    except KeyError:
        raise KeyError(f"no operation {operation_id!r}: the suite knows {', '.join(sorted(OPERATIONS))}") from None


def operation_for(endpoint: str, method: str = "") -> tuple[Operation, dict[str, str]]:
    """The operation whose path template ``endpoint`` fills (with ``method``, when given), and its parameters."""
    found = [(op, params) for op in OPERATIONS.values() if (not method or op.method == method)
             and (params := op.match(endpoint)) is not None]
    if len(found) != 1:
        what = f"{method} {endpoint}" if method else endpoint
        raise ValueError(f"{what} is {'no' if not found else 'more than one'} operation the suite knows "
                         f"({', '.join(sorted(op.method + ' ' + op.path for op in OPERATIONS.values()))})")
    return found[0]


# The stream kinds (an operation's ``streamed``), each with the kind its events are validated as and the kind of
# the one JSON body the same request gives without ``stream``: what generic code asks of "a stream" without
# knowing whose.
_STREAMS: dict[str, Operation] = {op.streamed: op for op in OPERATIONS.values() if op.streamed}


def is_stream(kind: str) -> bool:
    """Whether answers of ``kind`` are event streams (chat's chunk stream, the Responses API's named events...)."""
    return kind in _STREAMS


def event_kind(kind: str) -> str:
    """The answer kind each event of a ``kind`` stream is validated as."""
    return _STREAMS[kind].events


def unstreamed(kind: str) -> str:
    """The kind of the one JSON body that answers the same request without ``stream`` (``kind`` when not a
    stream)."""
    return _STREAMS[kind].answer if kind in _STREAMS else kind


def streamed_kind(kind: str) -> str:
    """The stream kind of the operation whose one JSON body is ``kind`` ("" when it has none)."""
    return next((op.streamed for op in _STREAMS.values() if op.answer == kind), "")
