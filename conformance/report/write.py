"""Write a report's files atomically: a run that dies keeps the previous report whole."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from conformance.output import atomic
from conformance.output.console import BIDI


# Compiling the templates costs more than rendering a report (about 0.17 s): jinja2 keeps the compiled code in a
# per-user folder under the temp dir, checked against each template's source on every load.
class _BestEffortCache(FileSystemBytecodeCache):
    """A cache that cannot be written (disk full) must not cost the report: the template is compiled anyway."""

    def dump_bytecode(self, bucket: Any) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


# Without a usable temp dir (not writable, not ours) the templates are compiled every time.
try:
    _BYTECODE_CACHE: FileSystemBytecodeCache | None = _BestEffortCache()
except (OSError, RuntimeError):
    _BYTECODE_CACHE = None


def template_environment(*, html: bool = False) -> Environment:
    env = Environment(loader=PackageLoader("conformance", "templates"), undefined=StrictUndefined,
                      bytecode_cache=_BYTECODE_CACHE,
                      autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=html)
                      if html else False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    env.filters["slug"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    env.filters["pretty"] = pretty_body
    env.filters["fence"] = fence
    env.filters["code"] = inline_code
    env.filters["cell_code"] = lambda text: inline_code(text).replace("|", "\\|")
    env.filters["md_text"] = md_text
    env.filters["safe_url"] = safe_url
    env.filters["md_link"] = md_link
    from conformance.report.rates import cell_rate, expectation_rows, sample_note

    env.filters["rate"] = cell_rate
    env.filters["expectation_rows"] = expectation_rows
    env.globals["sample_note"] = sample_note
    from conformance.report.summary import headline, what_breaks

    env.globals["what_breaks"] = what_breaks
    env.globals["headline"] = headline
    from conformance.report.reproduce import curl_command

    env.filters["curl"] = curl_command
    env.filters["known"] = lambda result: "known" if result.get("gated_verdict", result["verdict"]) != result[
        "verdict"] or any(f.get("known_gap") for f in result.get("findings", [])) else "new"
    env.filters["counts"] = lambda counts: ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"
    return env


def fence(text: str, language: str = "") -> str:
    """A Markdown code block that no backtick run inside ``text`` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{language}\n{text}\n{marks}"


_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{BIDI}]")


def inline_code(text: Any) -> str:
    """Text from anywhere (a server's message included) as one Markdown code span: no newline, control character
    or backtick run can end it early or restructure the page, and nothing in it is read as Markdown or HTML."""
    text = _CONTROL.sub(_escaped, str(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{marks}{pad}{text}{pad}{marks}"


_RAW_CONTROLS = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{BIDI}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_URL = re.compile(r"https?://[^\s<>\"'`\\()\[\]]+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#!~])")


def safe_url(url: Any) -> str:
    """A link target from data (a case's documentation section, a gap's source): an http(s) URL with nothing that
    could end the attribute or the Markdown link, else "#" (a javascript: or data: URL is never a live link)."""
    return url if isinstance(url, str) and _URL.fullmatch(url) else "#"


def md_text(text: Any) -> str:
    """Prose from data (a profile's description, a gap's reason, a saved case's title) as Markdown text: one line,
    no control character, HTML's < > & as entities and Markdown's own punctuation escaped, so it reads as the
    text it is and never as a tag, a link or a table cell's end."""
    flat = " ".join(_CONTROL.sub(_escaped, str(text)).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_link(text: Any, url: Any) -> str:
    """``text`` as inline code, linked to ``url`` when it is a safe http(s) URL."""
    code = inline_code(text)
    target = safe_url(url)
    return f"[{code}]({target})" if target != "#" else code


def no_controls(text: str) -> str:
    """No raw ESC (or any other control byte) and no bidirectional control in a report a terminal or a browser
    shows: each as a visible escape. Tabs and line ends stay."""
    return _RAW_CONTROLS.sub(_escaped, text)


def pretty_body(text: str) -> str:
    """Indent a JSON body for reading; an event stream or anything else (too deep, cut) is shown as it was."""
    from conformance.wire.sse import loads_checked

    try:
        value, _ = loads_checked(text)
        return json.dumps(value, indent=2)
    except (ValueError, RecursionError, TypeError):
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
    env = template_environment(html=True)
    template = env.get_template("report.html.j2")
    script = _page_script(env)
    return template.render(report=report, grid=grid, groups=list(groups.items()), script=Markup(script),
                           script_hash=script_hash(script))


def _page_script(env: Environment) -> str:
    """The filters' script, inlined (the page works from file:// with no network)."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, "report.js")
    return source


def script_hash(script: str) -> str:
    """The page's Content-Security-Policy allows this one script and nothing else (no script a server's text could
    smuggle into the page would run)."""
    import base64
    import hashlib

    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


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


def render_all(report: dict[str, Any]) -> tuple[str, str]:
    """Markdown and HTML. A result that makes a renderer raise becomes an ERROR row saying so (its exchange left
    out), instead of costing the whole report: the row stays, and the run fails on it."""
    try:
        return render_markdown(report), render_html(report)
    except Exception:
        pass
    results = []
    for result in report["results"]:
        try:
            single = {**report, "results": [result]}
            render_markdown(single)
            render_html(single)
            results.append(result)
        except Exception as exc:
            detail = str(exc).splitlines()[0][:160] if str(exc) else ""
            results.append({**result, "verdict": "ERROR", "gated_verdict": "ERROR", "exchange": None,
                            "findings": [], "reason": f"the report renderer raised {type(exc).__name__} on this "
                                                      f"case: {detail}"})
    report["results"] = results
    return render_markdown(report), render_html(report)


def write_reports(report: dict[str, Any], folder: str | Path) -> list[Path]:
    folder = Path(folder)
    report = strict_json(report)
    markdown, html = render_all(report)  # render everything before writing anything: the old report stays whole
    markdown, html = no_controls(markdown), no_controls(html)
    from conformance.report.summary import badge

    rendered = {
        folder / "report.json": dumps(report),
        folder / "report.md": markdown,
        folder / "report.html": html,
        folder / "badge.json": json.dumps(badge(report), indent=2) + "\n",
    }
    atomic.write_all(rendered)
    return list(rendered)
