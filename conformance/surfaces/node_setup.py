"""Where the Node.js surface's SDK lives and how it is installed (``conformance setup-node``, the suite's tests).

The SDK is installed outside the package, in a per-user folder, because an installed package may be read-only
(a system or a CI image's site-packages): ``$CONFORMANCE_NODE_DIR``, else
``$XDG_CACHE_HOME/openai-conformance/node-openai-<pinned version>`` (``~/.cache`` without XDG_CACHE_HOME). The
folder holds a copy of the package's ``package.json``, ``package-lock.json`` (the pin) and ``surface.mjs`` (the
client program: Node.js resolves ``import 'openai'`` from the program's own folder), and ``node_modules``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent / "node"  # shipped in the package: the program and the pin
_SHIPPED = ("package.json", "package-lock.json", "surface.mjs")
SETUP_COMMAND = "conformance setup-node"


@cache
def pinned_version() -> str:
    """The OpenAI Node.js SDK version the package pins (package.json, held to the lock by npm ci)."""
    data = json.loads((SOURCE_DIR / "package.json").read_text(encoding="utf-8"))
    return str(data["dependencies"]["openai"])


def node_home() -> Path:
    override = os.environ.get("CONFORMANCE_NODE_DIR")
    if override:
        return Path(override)
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_root / "openai-conformance" / f"node-openai-{pinned_version()}"


def node_sdk_installed() -> bool:
    return (node_home() / "node_modules" / "openai" / "package.json").is_file()


def node_sdk_version() -> str:
    """The version the node-sdk column runs: the installed SDK's, else the pinned one (the column is then NOT RUN,
    and the report still names what the lock would install)."""
    installed = node_home() / "node_modules" / "openai" / "package.json"
    try:
        return str(json.loads(installed.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return pinned_version()


def program_path() -> Path:
    """``surface.mjs`` in the install folder, refreshed from the package when the package's copy changed (an
    upgrade of the suite reuses the SDK already installed for the same pin)."""
    home = node_home()
    for name in _SHIPPED:
        source, copy = SOURCE_DIR / name, home / name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    return home / "surface.mjs"


def missing_reason() -> str | None:
    """Why the node-sdk column cannot run, with the command that fixes it; None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (node not on PATH): install Node.js 18+ and npm, then run: " + SETUP_COMMAND
    if not node_sdk_installed():
        return f"the OpenAI Node.js SDK is not installed in {node_home()}: run: {SETUP_COMMAND}"
    return None


def install_node_sdk() -> tuple[bool, str]:
    """(ok, what happened). Without Node.js or npm there is nothing to install: ok, and the column is NOT RUN."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return True, "Node.js/npm not found; the node-sdk surface will be reported as NOT RUN"
    home = node_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        program_path()
    except OSError as exc:
        return False, f"cannot write to {home} ({exc.strerror or exc}): set CONFORMANCE_NODE_DIR to a writable folder"
    if node_sdk_installed() and node_sdk_version() == pinned_version():
        return True, f"the OpenAI Node.js SDK {pinned_version()} is already installed in {home / 'node_modules'}"
    # npm ci empties node_modules before it fills it: it runs in a folder of its own, and the result is swapped in
    # whole, so that a run using the SDK meanwhile (the folder is per user, not per checkout) never sees it gone.
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=home))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(SOURCE_DIR / name, staging / name)
        try:
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=staging,
                                  capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return False, f"npm ci did not finish within 10 minutes in {staging}"
        if done.returncode != 0:
            return False, f"npm ci failed in {staging}: {done.stderr.strip()[-300:]}"
        target, old = home / "node_modules", home / f".old-node_modules-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(staging / "node_modules", target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True, f"the OpenAI Node.js SDK {node_sdk_version()} is installed in {home / 'node_modules'}"
