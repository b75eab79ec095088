"""Shared fixtures of the suite's own tests. Everything served here is SYNTHETIC (see tests/standin)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CONFORMANCE_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference"
# A canary key: it must never appear in any file or output the suite writes.
CANARY_KEY = "sk-canary-" + "C4n4ry" * 6


def _node_dir() -> str:
    from conformance.surfaces.node_setup import node_home

    return str(node_home())


# Where the Node.js SDK is installed for this user, fixed before any test moves HOME: the processes the tests start
# with HOME elsewhere still find it (a user's HOME holds it the same way).
NODE_DIR = os.environ.setdefault("CONFORMANCE_NODE_DIR", _node_dir())


def user_env(home: Path | str, **extra: str) -> dict[str, str]:
    """The environment of a user's process: PATH, HOME, the Node.js SDK's folder, and what the test adds."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "CONFORMANCE_NODE_DIR": NODE_DIR, **extra}


def run_exit_code(report: dict[str, Any]) -> int:
    """The exit code ``conformance run`` owes a report: 1 when a result still fails once known gaps are set aside
    (FAIL or ERROR), else 0 (commands/run.py). Tests pin a run's code to its own report with it."""
    failing = sum(report["gated_summary"].get(v, 0) for v in ("FAIL", "ERROR"))
    return 1 if failing else 0


def need_reference(*parts: str) -> Path:
    path = REFERENCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (it lives in ../shared, which CI always has)")
    return path


@pytest.fixture
def canary_key() -> str:
    return CANARY_KEY


@pytest.fixture(scope="session", autouse=True)
def node_sdk() -> None:
    """The README's test command works on a fresh clone by itself: the pinned Node.js SDK (lockfile in the repo) is
    installed here when Node.js is present; without Node.js, tests that need it skip (see need_every_surface)."""
    import fcntl
    import shutil

    from conformance.surfaces.node_setup import install_node_sdk, node_home, node_sdk_installed

    if node_sdk_installed() or shutil.which("node") is None or shutil.which("npm") is None:
        return
    node_home().mkdir(parents=True, exist_ok=True)
    with open(node_home() / ".install.lock", "w") as lock:  # pytest-xdist workers: one npm ci at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not node_sdk_installed():
            ok, message = install_node_sdk()
            if not ok:
                print(f"note: {message}; tests that need the node-sdk surface will skip")


def need_every_surface() -> None:
    from conformance.surfaces import SURFACES

    unavailable = {name: s.unavailable() for name, s in SURFACES.items() if s.unavailable()}
    if unavailable:
        pytest.skip(f"this test expects every surface to run; not here: {unavailable}")


def default_signals() -> None:
    """For child processes: SIGINT and SIGTERM as a terminal would deliver them, even when this test run was started
    from a shell that ignores SIGINT (background jobs do), so that signal tests mean what they say."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _committed_state(*, files: bool) -> dict[str, int]:
    """Modification times of the committed folders (``files=False``: the folders only, which any file created,
    deleted or replaced atomically inside them changes)."""
    state = {}
    for folder in ("reports", "cassettes"):
        for root, _, names in os.walk(REPO / folder):
            state[root] = os.stat(root).st_mtime_ns
            for name in names if files else ():
                path = os.path.join(root, name)
                state[path] = os.stat(path).st_mtime_ns
    return state


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@pytest.fixture(autouse=True)
def committed_files_untouched() -> Any:
    """No test may write into the repository's committed reports or cassettes (they are the main job's output).

    Each test is held to the folders (cheap: twice per test); each module to every file, which also catches a
    file rewritten in place."""
    before = _committed_state(files=False)
    yield
    changed = _changed(before, _committed_state(files=False))
    assert not changed, f"this test wrote committed files: {changed[:3]}"


@pytest.fixture(scope="module", autouse=True)
def committed_files_untouched_by_module() -> Any:
    before = _committed_state(files=True)
    yield
    changed = _changed(before, _committed_state(files=True))
    assert not changed, f"a test of this module wrote committed files: {changed[:3]}"


# The files whose runs take longest, first: pytest-xdist hands whole files to workers in collection order
# (--dist loadfile), and a long file handed out last keeps one worker busy while the others are idle.
LONGEST_FIRST = ("test_batches.py", "test_sharing.py", "test_end_to_end.py", "test_faults.py", "test_selftest.py",
                 "test_reports.py", "test_hostile.py", "test_first_hour.py", "test_hostile_transport.py",
                 "test_concurrency.py", "test_integrity.py", "test_surfaces.py", "test_schemas.py", "test_safety.py",
                 "test_secrets.py", "test_report_browser.py", "test_hostile_text_and_inputs.py", "test_flows.py",
                 "test_fuzz.py")
# measured (pytest --durations=0, summed by file; files run whole on one worker, --dist loadfile), longest first


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order


@pytest.hookimpl(optionalhook=True)  # runs without pytest-xdist (-p no:xdist) load this file too
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than there are cores. Part of the suite waits on deadlines and servers (the
    hostile and fault runs hold a worker for seconds while using little CPU); measured on 2 cores: 72 s with 3
    workers against 80 s with 2, and 77 s with 4."""
    return (os.cpu_count() or 1) + 1
