"""Run settings: the resolved target, mode, key and folders, shared by the pytest plugin and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance.checks.registry import Selection
from conformance.judge.gaps import GapManifest, load_manifest, manifest_path
from conformance.model.errors import UsageError
from conformance.run.options import (
    DEFAULT_BATCH_WAIT_S,
    DEFAULT_MAX_BODY_MB,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BUDGET_S,
    DEFAULT_TIMEOUT_S,
)
from conformance.run.profiles import Profile, load_profile
from conformance.surfaces import SURFACES
from conformance.wire.scrub import Scrubber
from conformance.wire.sharing import Sharing

RECORDING_MODES = ("once", "new_episodes", "all", "rewrite")
# Sent in replay mode, where nothing reaches a server; not key-shaped on purpose.
REPLAY_KEY = "replay-mode-no-key"


@dataclass
class Settings:
    profile: Profile
    record_mode: str
    cassette_dir: Path
    report_dir: Path
    surfaces: list[str]
    timeout_s: float = DEFAULT_TIMEOUT_S  # one exchange in all: connect, headers, whole body or stream
    gaps: GapManifest = field(default_factory=GapManifest)
    retries: int = DEFAULT_RETRIES  # extra attempts after a 429 or 503
    retry_budget_s: float = DEFAULT_RETRY_BUDGET_S  # total time a case may spend waiting between attempts
    batch_wait_s: float = DEFAULT_BATCH_WAIT_S  # how long a live run waits for a batch to finish
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1_000_000)  # a response body past this is an ERROR
    fresh: bool = False  # re-recording: existing cassettes are ignored, each replaced once its new one is whole
    repeat: int = 1  # samples per case when recording; a replay takes each cassette's own count
    rpm: float | None = None  # requests per minute when recording, shared by every worker; None: unpaced
    # a live run sends each distinct request once and shares its answer (conformance/wire/sharing.py)
    share: bool = True
    checks: Selection = field(default_factory=Selection)  # --checks / --exclude-checks
    # (case, surface) runs a live run leaves for its next run: past the key's daily quota (commands/progress.py)
    deferred: frozenset[tuple[str, str]] = frozenset()

    def pace(self) -> None:
        """Wait for this request's slot when a live run is paced (--rpm); a replay never waits."""
        if self.recording and self.rpm:
            from conformance.wire.pacing import wait_for_slot

            wait_for_slot(self.profile.name, self.rpm)

    def provenance(self) -> dict[str, Any]:
        """What every cassette this run records says about where it came from."""
        import platform

        from conformance.surfaces.versions import client_versions

        return {"target": self.profile.name, "base_url": self.profile.base_url,
                **({"embedding_base_url": self.profile.embedding_base_url}
                   if self.profile.embedding_base_url else {}),
                "chat_model": self.profile.chat_model, "embedding_model": self.profile.embedding_model,
                "repeat": self.repeat,
                # The clients that made the requests (their names are in the request headers) and the Python.
                "clients": {"python": platform.python_version(), **client_versions()}}

    @property
    def recording(self) -> bool:
        return self.record_mode in RECORDING_MODES

    @property
    def api_key(self) -> str:
        key = self.profile.fetch_key() if self.recording else self.profile.api_key()
        if self.recording and not key:
            raise UsageError(missing_key_message(self.profile, self.record_mode))
        return key or REPLAY_KEY

    @cached_property
    def sharing(self) -> Sharing | None:
        """The run's shared answers (this process's), when it is live and sharing."""
        return Sharing() if self.recording and self.share else None

    @cached_property
    def scrubber(self) -> Scrubber:
        """Built once per run: its patterns for every encoded form of the key are compiled on creation."""
        return Scrubber([self.profile.api_key()])

    def record_command(self, case_id: str | None = None) -> str:
        """The command that records (the rest of) this run, as one line a user can paste; the key is read from
        the profile's variable, which the caller names."""
        return shell_command(["conformance", "run", *self.profile.selector(), "--record-mode=once",
                              *(["-k", case_id] if case_id else [])])

    def key_hint(self) -> str:
        return f"set {self.profile.api_key_env} to the key (it is never written anywhere)"


def shell_command(parts: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(p) for p in parts)


def resolve(values: dict[str, Any], record_mode: str = "none", *, fresh: bool = False, share: bool = True) -> Settings:
    """Settings from the run options' values (see conformance.run.options): the one place they are interpreted."""
    profile = load_profile(values.get("target"), name=values.get("name"), base_url=values.get("base_url"),
                           embedding_base_url=values.get("embedding_base_url"), api_key_env=values.get("api_key_env"),
                           chat_model=values.get("chat_model"),
                           embedding_model=values.get("embedding_model"))
    fresh = fresh or record_mode == "rewrite"
    gaps = values.get("gaps")
    checks = select_checks(values.get("checks"), values.get("exclude_checks"))
    return Settings(
        profile=profile,
        record_mode="all" if fresh else (record_mode or "none"),
        cassette_dir=Path(values["cassette_dir"]) if values.get("cassette_dir") else default_dir("cassettes",
                                                                                                 profile.name),
        report_dir=Path(values["report_dir"]) if values.get("report_dir") else default_dir("reports", profile.name),
        surfaces=parse_surfaces(values.get("surfaces")),
        timeout_s=float(values.get("timeout") or DEFAULT_TIMEOUT_S),
        batch_wait_s=float(values.get("batch_wait") or DEFAULT_BATCH_WAIT_S),
        retries=max(0, int(_given(values, "retries", DEFAULT_RETRIES))),
        retry_budget_s=max(0.0, float(_given(values, "retry_budget", DEFAULT_RETRY_BUDGET_S))),
        max_body_bytes=int(float(values.get("max_body_mb") or DEFAULT_MAX_BODY_MB) * 1_000_000),
        gaps=load_manifest(None if gaps == "none" else (gaps or manifest_path(profile.gaps_target))),
        fresh=fresh,
        repeat=int(values.get("repeat") or 1),
        rpm=_pace(values.get("rpm"), profile),
        share=share,
        checks=checks,
    )


def _pace(value: Any, profile: Profile) -> float | None:
    """--rpm N, else the pace the target's profile states (a free-tier key's limit), else none; 0 turns it off."""
    if value is not None:
        return float(value) or None
    return profile.rpm


def select_checks(include: str | None, exclude: str | None) -> Selection:
    """The selection ``--checks`` / ``--exclude-checks`` make; a pattern that names no registered check is a usage
    error."""
    from conformance.checks import REGISTRY
    from conformance.checks.registry import select

    def split(value: str | None) -> tuple[str, ...]:
        return tuple(p.strip() for p in (value or "").split(",") if p.strip())

    try:
        return select(split(include), split(exclude))
    except KeyError as exc:
        raise UsageError(f"no check matches {exc.args[0]!r}: 'conformance checks' lists the {len(REGISTRY)} ids") \
            from None


def missing_key_message(profile: Profile, mode: str, cassette_dir: Path | None = None) -> str:
    folder = cassette_dir or default_dir("cassettes", profile.name)
    has_cassettes = folder.is_dir() and any(folder.rglob("*.yaml"))
    hint = ("or replay its recorded cassettes with --record-mode=none" if has_cassettes else
            f"no cassettes are recorded for {profile.name} yet, so a key is needed for a first run")
    return (f"record mode '{mode}' talks to {profile.base_url} and needs an API key: set {profile.api_key_env} "
            f"({hint}); to type it in without echo or shell history:\n"
            f"read -rs {profile.api_key_env} && export {profile.api_key_env}")


def parse_surfaces(value: str | None) -> list[str]:
    if not value:
        return list(SURFACES)
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SURFACES]
    if unknown:
        raise UsageError(f"unknown surface(s) {', '.join(unknown)}: choose from {', '.join(SURFACES)}")
    return names


def default_dir(kind: str, target: str) -> Path:
    """``cassettes/<target>`` or ``reports/<target>`` under the project root (the config's folder, else the
    working folder), so that a command run from a sub-folder of the project finds the project's own data."""
    from conformance.run.config import load_project

    return load_project().root / kind / target


def _given(values: dict[str, Any], name: str, default: float) -> Any:
    """The option's value when one was given (0 included), else its default."""
    value = values.get(name)
    return default if value is None else value
