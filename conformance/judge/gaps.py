"""Known gaps: what a target is known to do differently, so that CI fails on change, not on known facts.

A manifest (``conformance/targets/<target>.gaps.toml``, or any file given with ``--gaps``) lists entries, each with
a reason and a source. An entry matches findings (by check id and JSON pointer glob) or whole verdicts (e.g. a
documented parameter the target rejects), on cases and surfaces given as globs. Matched findings stay in the
report, marked; they just do not fail the run. An entry that matched nothing in a run that exercised its cases
is a closed gap: an improvement to act on (remove it from the manifest), like a strict xfail that passes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.model.errors import UsageError
from conformance.model.findings import Severity
from conformance.model.verdicts import Verdict, verdict_for_findings

GAP_KEYS = {"id", "check", "pointer", "verdict", "cases", "surfaces", "params", "reason", "source"}


@dataclass(frozen=True)
class Gap:
    id: str
    reason: str
    source: str
    check: str | None = None
    pointers: tuple[str, ...] = ("*",)
    verdict: Verdict | None = None
    cases: tuple[str, ...] = ("*",)
    surfaces: tuple[str, ...] = ("*",)
    # Request parameters (dotted paths) whose presence makes the gap apply to any case that sends them, saved and
    # fuzzed cases included: a gap is a property of the server, not of one catalogue case.
    params: tuple[str, ...] = ()

    def covers(self, case: str, surface: str, request: dict[str, Any] | None = None) -> bool:
        if not any(fnmatchcase(surface, s) for s in self.surfaces):
            return False
        if any(fnmatchcase(case, c) for c in self.cases) and (self.cases != ("*",) or not self.params):
            return True
        return bool(self.params) and request is not None and all(_has(request, p) for p in self.params)

    def matches_finding(self, case: str, surface: str, check: str, pointer: str,
                        request: dict[str, Any] | None = None) -> bool:
        return (self.check is not None and self.check == check
                and any(fnmatchcase(pointer or "/", p) for p in self.pointers) and self.covers(case, surface, request))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "check": self.check, "pointer": list(self.pointers), "params": list(self.params),
                "verdict": self.verdict.value if self.verdict else None, "cases": list(self.cases),
                "surfaces": list(self.surfaces), "reason": self.reason, "source": self.source}


@dataclass
class GapManifest:
    gaps: list[Gap] = field(default_factory=list)
    source: str = ""
    checked: str = ""  # when the manifest was last brought up to the public evidence (its top-level `checked`)


def manifest_path(target: str) -> Path | None:
    """The target's known-gaps manifest: the project's own (``targets/<target>.gaps.toml``), else the built-in."""
    from conformance.run.config import load_project

    own = load_project().project_manifest(target)
    if own is not None:
        return own
    resource = resources.files("conformance.targets").joinpath(f"{target}.gaps.toml")
    return Path(str(resource)) if resource.is_file() else None


def load_manifest(path: str | Path | None) -> GapManifest:
    if path is None:
        return GapManifest()
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read known-gaps manifest {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"known-gaps manifest {path} is not valid TOML ({exc}): fix the file") from None
    unknown_top = set(document) - {"gap", "extends", "checked"}
    if unknown_top:
        raise UsageError(f"{path}: unknown key(s) {', '.join(sorted(unknown_top))} (a manifest has [[gap]] "
                         "entries and optionally extends = \"<built-in target>\" and checked = \"<date>\")")
    gaps = _extended(document.get("extends"), path)
    for number, entry in enumerate(document.get("gap", [])):
        where = f"{path} gap #{number + 1}"
        unknown = set(entry) - GAP_KEYS
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not entry.get("reason") or not entry.get("source") or not entry.get("id"):
            raise UsageError(f"{where}: every gap needs an id, a reason and a source")
        if bool(entry.get("check")) == bool(entry.get("verdict")):
            raise UsageError(f"{where}: give either a check (with an optional pointer) or a verdict")
        try:
            verdict = Verdict(entry["verdict"]) if entry.get("verdict") else None
        except ValueError:
            raise UsageError(f"{where}: unknown verdict {entry['verdict']!r}") from None
        if entry.get("check") and entry["check"] not in _registered():
            raise UsageError(f"{where}: unknown check id {entry['check']!r} (see 'conformance checks')")
        gaps.append(Gap(id=entry["id"], reason=entry["reason"], source=entry["source"], check=entry.get("check"),
                        pointers=_strings(entry.get("pointer", "*")), verdict=verdict,
                        cases=_strings(entry.get("cases", "*")), surfaces=_strings(entry.get("surfaces", "*")),
                        params=_strings(entry.get("params", ()))))
    ids = [g.id for g in gaps]
    if len(set(ids)) != len(ids):
        raise UsageError(f"{path}: gap ids must be unique")
    return GapManifest(gaps, _display(path), str(document.get("checked", "")))


def _extended(extends: Any, path: Path) -> list[Gap]:
    """The entries of the built-in manifests a project's own manifest extends (``extends = "gemini"``): the
    publicly reported gaps stay known, and the project adds its own beside them."""
    names = [extends] if isinstance(extends, str) else extends or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{path}: extends must be a built-in target name or a list of them")
    gaps: list[Gap] = []
    for name in names:
        resource = resources.files("conformance.targets").joinpath(f"{name}.gaps.toml")
        if not resource.is_file():
            raise UsageError(f"{path}: extends {name!r}, which has no built-in known-gaps manifest")
        gaps += load_manifest(Path(str(resource))).gaps
    return gaps


def _display(path: Path) -> str:
    """A path worth printing in a committed report: relative to the package, the project or the working folder."""
    from conformance.run.config import load_project

    package_root = Path(__file__).resolve().parent.parent.parent
    for root in (package_root, load_project().root, Path.cwd()):
        try:
            return str(path.resolve().relative_to(root))
        except ValueError:
            continue
    return str(path)


def _registered() -> set[str]:
    from conformance.checks import REGISTRY

    return set(REGISTRY)


def _has(request: dict[str, Any], path: str) -> bool:
    node: Any = request
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node or node[part] in (None, False):
            return False
        node = node[part]
    return True


def _strings(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def apply(result: Any, manifest: GapManifest, request: dict[str, Any] | None = None) -> set[str]:
    """Mark the result's known findings and set its gated verdict; returns the ids of the gaps that matched."""
    matched: set[str] = set()
    marked = []
    for finding in result.findings:
        gap = next((g for g in manifest.gaps if g.matches_finding(result.case, result.surface, finding.check,
                                                                   finding.pointer, request)), None)
        if gap:
            matched.add(gap.id)
            finding = replace(finding, known_gap=gap.id)
        marked.append(finding)
    result.findings = marked
    result.gated_verdict = result.verdict
    verdict_gap = next((g for g in manifest.gaps if g.verdict is result.verdict
                        and g.covers(result.case, result.surface, request)), None)
    if verdict_gap:
        matched.add(verdict_gap.id)
        result.known_gap = verdict_gap.id
        result.gated_verdict = Verdict.DEVIATION
    elif any(f.known_gap for f in result.findings) and result.verdict in (Verdict.PASS, Verdict.DEVIATION,
                                                                           Verdict.FLAKY, Verdict.FAIL):
        # Only what the manifest names is set aside: with no known finding the verdict stands as it is, and a
        # FAIL stays a FAIL unless a known finding is a failure (a lifecycle that stopped, a conversation that
        # could not go on, says FAIL in its reason, not only in its findings).
        gated = verdict_for_findings([f for f in result.findings if not f.known_gap], getattr(result, "samples", 1))
        explained = any(f.known_gap and f.severity is Severity.FAILURE for f in result.findings)
        result.gated_verdict = result.verdict if result.verdict is Verdict.FAIL and not explained else gated
    return matched


def gap_statuses(manifest: GapManifest, results: list[dict[str, Any]],
                 closed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every known gap with what this run says of it: "seen" (a result matched it), "not seen" (every result it
    covers was judged and none matched: closed) or "not yet checked" (what it covers was not judged here, e.g. an
    offline report with nothing recorded yet)."""
    matched = {f.get("known_gap") for r in results for f in r.get("findings", [])} | {r.get("known_gap")
                                                                                      for r in results}
    gone = {g["id"] for g in closed}
    return [{"id": g.id, "what": g.check or (g.verdict.value if g.verdict else ""), "reason": g.reason,
             "source": g.source, "status": "seen" if g.id in matched else "not seen" if g.id in gone
             else "not yet checked"} for g in manifest.gaps]


# A check that cannot see its deviation on an answer where another check fired: the tool-call checks tell calls
# apart by their index, so on deltas without one (stream.tool_calls.index) they cannot see calls that share one.
BLINDED_BY = {"stream.tool_calls.first": "stream.tool_calls.index", "sdk.stream.accumulate": "stream.tool_calls.index"}
# Verdicts of an answer that was judged for its behaviour (an error, a refusal or nothing recorded shows none).
_ANSWERED = (Verdict.PASS.value, Verdict.DEVIATION.value, Verdict.FLAKY.value, Verdict.FAIL.value)


def closed_gaps(manifest: GapManifest, results: list[dict[str, Any]],
                case_ids: list[str] | None = None, selected: Any = None) -> list[dict[str, Any]]:
    """Gaps that matched nothing although the run looked where they would show: every catalogue case and surface
    they cover was judged on an answer (a refusal, an error or a missing recording shows no behaviour), their check
    ran (``selected``: the run's check selection) and was not blinded on any of those answers (BLINDED_BY).

    A partial run (``-k``, ``--surfaces``, cases not recorded) cannot close a gap it did not fully look at: the
    gap stays "not yet checked", which the report says.
    """
    from conformance.catalogue import CASES

    ran = [r for r in results if r["verdict"] not in (Verdict.NOT_RECORDED.value, Verdict.NOT_RUN.value)]
    answered = {(r["case"], r["surface"]) for r in ran if r["verdict"] in _ANSWERED}
    blinded = {(r["case"], r["surface"], check) for r in ran for check, by in BLINDED_BY.items()
               if any(f.get("check") == by for f in r.get("findings", []))}
    ran_pairs = {(r["case"], r["surface"]) for r in ran}
    surfaces = {r["surface"] for r in results}
    matched = {f.get("known_gap") for r in ran for f in r.get("findings", [])} | {r.get("known_gap") for r in ran}
    closed = []
    for gap in manifest.gaps:
        if gap.id in matched:
            continue
        covered = {(c, s) for c in (case_ids or [c.id for c in CASES]) for s in surfaces if gap.covers(c, s)}
        if gap.check is not None:
            if selected is not None and not selected.selected(gap.check):
                continue  # its check did not run
            if not covered & answered or any((c, s, gap.check) in blinded for c, s in covered):
                continue  # no answer where it would have shown, or its check could not see it there
        if covered and covered <= ran_pairs:
            cases = sorted({c for c, _ in covered})
            closed.append({**gap.to_dict(), "case": cases[0] if len(cases) == 1 else "*", "surface": "*"})
    return closed
