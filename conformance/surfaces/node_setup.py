"""Installing the Node.js surface's SDK: used by ``conformance setup-node`` and by the suite's own tests."""

from __future__ import annotations

import shutil
import subprocess

from conformance.surfaces.proxied import NODE_DIR


def node_sdk_installed() -> bool:
    return (NODE_DIR / "node_modules" / "openai").is_dir()


def install_node_sdk() -> tuple[bool, str]:
    """(ok, what happened). Without Node.js or npm there is nothing to install: ok, and the column is NOT RUN."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return True, "Node.js/npm not found; the node-sdk surface will be reported as NOT RUN"
    try:
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False, f"npm ci did not finish within 10 minutes in {NODE_DIR}"
    if done.returncode != 0:
        return False, f"npm ci failed in {NODE_DIR}: {done.stderr.strip()[-300:]}"
    return True, f"the OpenAI Node.js SDK is installed in {NODE_DIR / 'node_modules'}"
