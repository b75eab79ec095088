"""Which client and library versions made a run's requests and judged its answers (reports and cassettes say)."""

from __future__ import annotations

from importlib import metadata

from conformance.surfaces.node_setup import node_sdk_version


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def client_versions() -> dict[str, str | None]:
    """The versions a report depends on: the clients that build the requests (their names are in request headers)
    and the libraries that read and judge the answers. ``requirements/lock.txt`` pins them."""
    return {**{p: _version(p) for p in ("openai", "httpx", "vcrpy", "jsonschema", "pytest")},
            "openai (Node.js)": node_sdk_version()}
