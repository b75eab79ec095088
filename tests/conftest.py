"""Shared fixtures of the suite's own tests. Everything served here is SYNTHETIC (see tests/standin)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CONFORMANCE_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference"
# A canary key: it must never appear in any file or output the suite writes.
CANARY_KEY = "sk-canary-" + "C4n4ry" * 6


def need_reference(*parts: str) -> Path:
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (it lives in ../shared, which CI always has)")
    return path


@pytest.fixture
def canary_key() -> str:
    return CANARY_KEY
