"""``conformance setup-node``: install the pinned OpenAI Node.js SDK (npm ci with the committed lockfile)."""

from __future__ import annotations

from conformance.model.exit_codes import EXIT_FINDINGS, EXIT_OK
from conformance.output.console import make_console


def command_setup_node() -> int:
    from conformance.surfaces.node_setup import install_node_sdk

    ok, message = install_node_sdk()
    make_console(stderr=True).print(f"setup-node: {message}", markup=False)
    return EXIT_OK if ok else EXIT_FINDINGS
