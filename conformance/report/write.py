"""Write a report's files atomically: a run that dies keeps the previous report whole."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from conformance import atomic


def template_environment(*, html: bool = False) -> Environment:
    env = Environment(loader=PackageLoader("conformance", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=html)
                      if html else False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    env.filters["slug"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    env.filters["pretty"] = pretty_body
    env.filters["fence"] = fence
    env.filters["counts"] = lambda counts: ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"
    return env


def fence(text: str, language: str = "") -> str:
    """A Markdown code block that no backtick run inside ``text`` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{language}\n{text}\n{marks}"


def pretty_body(text: str) -> str:
    """Indent a JSON body for reading; an event stream or anything else is shown as it was."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def grid_of(report: dict[str, Any]) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for result in report["results"]:
        grid.setdefault(result["case"], {})[result["surface"]] = result
    return grid, list(grid)


def render_html(report: dict[str, Any]) -> str:
    grid, cases = grid_of(report)
    groups: dict[str, list[str]] = {}
    for case in cases:
        groups.setdefault(next(iter(grid[case].values()))["feature"], []).append(case)
    template = template_environment(html=True).get_template("report.html.j2")
    return template.render(report=report, grid=grid, groups=list(groups.items()))


def render_markdown(report: dict[str, Any]) -> str:
    grid, cases = grid_of(report)
    return template_environment().get_template("report.md.j2").render(report=report, grid=grid, cases=cases)


def strict_json(value: Any) -> Any:
    """The value with every NaN and infinity spelled as a string: report.json must stay strict JSON (RFC 8259)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(strict_json(report), indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_reports(report: dict[str, Any], folder: str | Path) -> list[Path]:
    folder = Path(folder)
    report = strict_json(report)
    rendered = {  # render everything before writing anything: a failed render leaves the old report whole
        folder / "report.json": dumps(report),
        folder / "report.md": render_markdown(report),
        folder / "report.html": render_html(report),
    }
    atomic.write_all(rendered)
    return list(rendered)
