"""How a sampled result's rates read in a matrix cell and in a result's details (terminal, Markdown, HTML)."""

from __future__ import annotations

from typing import Any


def cell_rate(result: dict[str, Any]) -> str:
    """For a result of K > 1 samples: the weakest behaviour rate ("3/5"), or "x5" when the case has none."""
    samples = result.get("samples", 1)
    if samples <= 1:
        return ""
    behaviour = [e for e in result.get("expectations", {}).values()
                 if e.get("nature") == "behaviour" and e.get("samples")]
    if not behaviour:
        return f"x{samples}"
    weakest = min(behaviour, key=lambda e: e["passed"] / max(e["samples"], 1))
    return f"{weakest['passed']}/{weakest['samples']}"


def expectation_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per expectation with a count: its id, nature, "passed/samples" and the Wilson 95 % interval."""
    rows = []
    for check, e in sorted(result.get("expectations", {}).items(), key=lambda item: (item[1]["nature"], item[0])):
        low, high = e.get("wilson95", [0.0, 1.0])
        rows.append({"check": check, "nature": e["nature"], "rate": f"{e['passed']}/{e['samples']}",
                     "interval": f"{low:.0%}-{high:.0%}"})
    return rows


def sample_note(finding: dict[str, Any], samples: int) -> str:
    """Which samples showed a finding, when not all of them did."""
    seen = finding.get("samples")
    if samples <= 1 or seen is None:
        return ""
    return f"samples {', '.join(map(str, seen))} of {samples}"
