"""Run settings: the resolved target, mode, key and folders, shared by the pytest plugin and the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import UsageError
from conformance.gaps import GapManifest
from conformance.profiles import Profile
from conformance.scrub import Scrubber
from conformance.surfaces import SURFACES

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
    timeout_s: float = 60.0
    gaps: GapManifest = field(default_factory=GapManifest)
    retries: int = 3  # extra attempts after a 429 or 503
    retry_budget_s: float = 60.0  # total time a case may spend waiting between attempts

    @property
    def recording(self) -> bool:
        return self.record_mode in RECORDING_MODES

    @property
    def api_key(self) -> str:
        key = self.profile.api_key()
        if self.recording and not key:
            raise UsageError(missing_key_message(self.profile, self.record_mode))
        return key or REPLAY_KEY

    @property
    def scrubber(self) -> Scrubber:
        return Scrubber([self.profile.api_key()])

    def record_command(self, case_id: str | None = None) -> str:
        target = self.profile.source.removeprefix("built-in target ") if self.profile.source.startswith(
            "built-in") else self.profile.source
        parts = [f"{self.profile.api_key_env}=...", "conformance", "run", "--target", target, "--record-mode=once"]
        if case_id:
            parts += ["-k", case_id]
        return " ".join(parts)


def missing_key_message(profile: Profile, mode: str) -> str:
    return (f"record mode '{mode}' talks to {profile.base_url} and needs an API key: set {profile.api_key_env} "
            "(or replay the committed cassettes with --record-mode=none)")


def parse_surfaces(value: str | None) -> list[str]:
    if not value:
        return list(SURFACES)
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SURFACES]
    if unknown:
        raise UsageError(f"unknown surface(s) {', '.join(unknown)}: choose from {', '.join(SURFACES)}")
    return names


def default_dir(kind: str, target: str) -> Path:
    return Path(os.getcwd()) / kind / target
