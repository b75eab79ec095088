"""The operations of the OpenAI API, declared once (conformance/api), and the surfaces' tables that call them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.api import OPERATIONS, operation, operation_for
from conformance.catalogue import CASES
from conformance.checks.registry import KINDS
from conformance.surfaces.python_sdk import CALLS as PYTHON_CALLS

NODE_PROGRAM = Path(__file__).resolve().parents[2] / "conformance" / "surfaces" / "node" / "surface.mjs"


def test_every_case_names_one_operation() -> None:
    assert {case.operation.id for case in CASES} <= set(OPERATIONS)


def test_each_surface_table_calls_every_operation_and_nothing_else() -> None:
    node_calls = set(re.findall(r'^  "([a-z_]+\.[a-z_]+)": async', NODE_PROGRAM.read_text(encoding="utf-8"), re.M))
    assert set(PYTHON_CALLS) == set(OPERATIONS)
    assert node_calls == set(OPERATIONS)


def test_an_id_with_a_slash_stays_one_path_segment() -> None:
    cancel = operation("batches.cancel")
    path = cancel.fill(batch_id="batch/../files")
    assert path == "batches/batch%2F..%2Ffiles/cancel"
    assert operation_for(path) == (cancel, {"batch_id": "batch%2F..%2Ffiles"})


@pytest.mark.parametrize(("endpoint", "method", "expected"), [
    ("files", "POST", "files.create"),
    ("files/f1", "DELETE", "files.delete"),
    ("files/f1/content", "GET", "files.content"),
    ("batches/b1", "GET", "batches.retrieve"),
    ("models/<chat_model>", "", "models.retrieve"),
])
def test_a_path_and_method_name_exactly_one_operation(endpoint: str, method: str, expected: str) -> None:
    assert operation_for(endpoint, method)[0].id == expected


def test_an_unknown_path_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no operation the suite knows"):
        operation_for("no/such/operation")


def test_a_stream_body_changes_the_answer_kind_and_its_decoding() -> None:
    chat = operation("chat.create")
    assert (chat.kind({"stream": True}), chat.decoding_for({"stream": True})) == ("stream", "sse")
    assert (chat.kind({}), chat.decoding_for({})) == ("chat.completion", "json")


def test_check_kinds_are_the_operations_answer_kinds() -> None:
    assert set(KINDS) == {"error"} | {k for op in OPERATIONS.values() for k in (op.answer, op.streamed) if k}
