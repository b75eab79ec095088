"""The OpenAI API as the suite knows it: one module per endpoint family, each declaring its operations.

``operation_for`` finds the operation a case's path (and method) names; ``OPERATIONS`` lists them all. A new family
is a new module here with its operations, one entry in each surface's call table, and the stand-in's answers.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.api.operation import Answer, Operation

__all__ = ["ANSWERS", "OPERATIONS", "Answer", "Operation", "operation", "operation_for"]


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
