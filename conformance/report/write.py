"""Write a report's files atomically: a run that dies keeps the previous report whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from conformance import atomic


def template_environment() -> Environment:
    env = Environment(loader=PackageLoader("conformance", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    return env


def render_markdown(report: dict[str, Any]) -> str:
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        grid.setdefault(result["case"], {})[result["surface"]] = result
    cases = list(dict.fromkeys(r["case"] for r in report["results"]))
    return template_environment().get_template("report.md.j2").render(report=report, grid=grid, cases=cases)


def write_reports(report: dict[str, Any], folder: str | Path) -> list[Path]:
    folder = Path(folder)
    json_path, md_path = folder / "report.json", folder / "report.md"
    markdown = render_markdown(report)  # render before writing anything: both files change, or neither
    atomic.write_text(json_path, json.dumps(report, indent=2, sort_keys=False) + "\n")
    atomic.write_text(md_path, markdown)
    return [json_path, md_path]
