"""The README is a README (short, its commands the locked ones, its links alive) and the documentation site builds
with a strict link check that does fail on a broken link."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mkdocs", reason="mkdocs is a dev dependency")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir",
                           str(site)], capture_output=True, text=True, timeout=120)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    built = _mkdocs(REPO / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr[-2000:]
    assert (tmp_path / "site" / "ARCHITECTURE" / "index.html").is_file()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    (tmp_path / "mkdocs.yml").write_text((REPO / "mkdocs.yml").read_text())
    page = tmp_path / "docs" / "quickstart.md"
    page.write_text(page.read_text() + "\nSee [the missing page](missing.md#nowhere).\n")
    built = _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0 and "missing.md" in built.stderr


def test_the_readme_is_short_and_its_commands_install_the_lock() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    commands = [subprocess.run([sys.executable, str(REPO / "scripts" / "readme-commands"), str(n)],
                               capture_output=True, text=True, check=True).stdout.strip() for n in (1, 2)]
    assert all("pip install -c requirements/lock.txt" in c for c in commands)
    assert commands[0].endswith("conformance run --target llamacpp")
    assert commands[1].endswith("python -m pytest")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (REPO / target).exists(), target


def test_the_lock_pins_what_this_environment_runs() -> None:
    """The committed reports name these versions; a test run with others would not reproduce them."""
    from importlib import metadata

    pins = dict(line.split("==", 1) for line in (REPO / "requirements" / "lock.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    for name in ("openai", "httpx", "vcrpy", "jsonschema", "pytest"):
        assert metadata.version(name) == pins[name], (
            f"{name} {metadata.version(name)} is installed, the lock pins {pins[name]}: "
            "pip install -c requirements/lock.txt -e '.[dev]'")
    import json

    report = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    assert {k: v for k, v in report["run"]["versions"].items() if k in pins} == {
        k: pins[k] for k in report["run"]["versions"] if k in pins}


def test_the_readme_quotes_the_committed_reports_headline() -> None:
    """What the README says the first command prints is what it prints (the committed report's headline)."""
    import json

    from conformance.report.summary import headline

    report = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"`{headline(report)}`" in readme
