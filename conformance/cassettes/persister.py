"""How cassettes are loaded and saved (vcrpy's persister): checked before use, a provenance block in front, written
atomically inside the cassette folder only, never holding anything key-shaped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import compat

from conformance import __version__
from conformance.cassettes.paths import CASSETTE_SUFFIX, inside
from conformance.model.errors import UsageError
from conformance.output import atomic
from conformance.wire.scrub import Scrubber, looks_like_key

# K samples of a case, each up to the body cap (64 MB), with their requests: a file past this was not written by a run.
MAX_CASSETTE_BYTES = 512_000_000


class CassetteSecretError(UsageError):
    """A cassette on disk holds something key-shaped: it must be scrubbed or deleted before it is used."""


@dataclass
class Recording:
    """What one run's cassette persister needs: its folder, its provenance, and whether it may still write."""

    root: Path
    scrubber: Scrubber = field(default_factory=Scrubber)
    provenance: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # re-recording: existing cassettes are ignored and replaced once each new one is whole
    frozen: bool = False  # set when a run is interrupted: a test cut off mid-exchange must not replace a cassette
    sharing: Any = None  # a live run's shared answers: each cassette says which exchanges were shared (sharing.py)
    discard: set[Path] = field(default_factory=set)  # cassettes never to write (a 401/403 to the run's own key)
    answered: bool = False  # a live exchange was answered with something else than 401/403 to the run's key
    _checked: dict[Path, dict[str, Any]] = field(default_factory=dict)

    def load(self, path: Path) -> tuple[list[Any], list[Any]]:
        data = self._checked.pop(path, None) or read_cassette(path, self.scrubber)
        requests = [Request._from_dict(i["request"]) for i in data["interactions"]]
        responses = [compat.convert_to_bytes(i["response"]) for i in data["interactions"]]
        return requests, responses

    def preflight(self, paths: list[Path]) -> None:
        """Read and check every cassette a run may load, before the first request: one line and exit 2 if bad."""
        for path in paths:
            if path.is_file():
                self._checked[path] = read_cassette(path, self.scrubber)


def configure(recorder: Any, recording: Recording) -> None:
    """The one recording set-up: our persister, composed with whatever persister is registered (pytest-recording's
    loads the extra cassettes of ``vcr`` marks)."""
    from conformance.cassettes.filters import BODY_MATCHER, body_matches

    recorder.register_persister(ConformancePersister(recording, getattr(recorder, "persister", None)))
    recorder.register_matcher(BODY_MATCHER, body_matches)


def new_recorder(recording: Recording, record_mode: str, *, add_suffix: bool = True) -> Any:
    """A vcrpy recorder outside pytest (the fuzzer, the proxy command), set up exactly as the catalogue's."""
    import vcr

    recorder = vcr.VCR(cassette_library_dir=str(recording.root), record_mode=record_mode,
                       path_transformer=vcr.VCR.ensure_suffix(CASSETTE_SUFFIX) if add_suffix else None)
    configure(recorder, recording)
    return recorder


class ConformancePersister:
    """vcrpy persister: checked loads, provenance header, atomic writes inside the cassette folder only.

    It composes with the persister it replaces: pytest-recording's own loads the extra cassettes named in
    ``@pytest.mark.vcr("extra.yaml")`` marks, and they are loaded (and checked) here too.
    """

    def __init__(self, recording: Recording, inner: Any = None) -> None:
        self.recording = recording
        self.inner = inner

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        path = Path(cassette_path)
        paths = [] if self.recording.fresh else [path]
        paths += [Path(p) for p in getattr(self.inner, "extra_paths", None) or [] if Path(p) != path]
        requests: list[Any] = []
        responses: list[Any] = []
        for each in paths:
            if each.is_file() and each.stat().st_size:
                more_requests, more_responses = self.recording.load(each)
                requests += more_requests
                responses += more_responses
        if not requests:
            raise CassetteNotFoundError()
        return requests, responses

    def save_cassette(self, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        if self.recording.frozen or Path(cassette_path) in self.recording.discard:
            return
        if not inside(cassette_path, self.recording.root):
            raise UsageError(f"refusing to write {cassette_path}: it is outside the cassette folder "
                             f"{self.recording.root}")
        body = serialize(cassette_dict, serializer)
        provenance = {**self.recording.provenance, "recorded_at": now_iso(), "suite_version": __version__}
        if self.recording.sharing is not None:
            path = Path(cassette_path)
            answers = self.recording.sharing.notes_for(f"{path.parent.name}/{path.name.removesuffix(CASSETTE_SUFFIX)}")
            if answers:  # per exchange, in order: "live", or "shared from <surface>" (the same answer's bytes)
                provenance["answers"] = answers
        header = {"provenance": provenance}
        text = (
            "# Recorded by openai-conformance from a live server; secrets scrubbed before writing.\n"
            + yaml.dump(header, Dumper=_DUMPER, sort_keys=False)
            + body
        )
        text = self.recording.scrubber.text(text)  # the last line of defence: any encoded form left over
        leak = looks_like_key(text, self.recording.scrubber)
        if leak:
            raise CassetteSecretError(f"refusing to write {cassette_path}: it would contain a key-like string ({leak})")
        atomic.write_text(cassette_path, text)


def read_cassette(path: Path, scrubber: Scrubber | None = None) -> dict[str, Any]:
    """A cassette's content, refused with a one-line reason and fix when unreadable, corrupt or key-holding; a file
    larger than any run records is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_CASSETTE_BYTES:
            raise UsageError(f"cassette {path} is {size / 1e6:.0f} MB, more than a run records "
                             f"({MAX_CASSETTE_BYTES / 1e6:.0f} MB): not read; delete it and record again")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read cassette {path} ({exc}): fix its permissions or delete it and record again") \
            from None
    leak = looks_like_key(text, scrubber)
    if leak:
        raise CassetteSecretError(f"cassette {path} contains something that looks like an API key ({leak}): "
                                  "delete it and record again; nothing was run")
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"cassette {path} is not valid YAML{where}: delete it and record again") from None
    except RecursionError:
        raise UsageError(f"cassette {path} nests too deeply to read: delete it and record again") from None
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list) or not all(
            isinstance(i, dict) and isinstance(i.get("request"), dict) and isinstance(i.get("response"), dict)
            for i in interactions):
        raise UsageError(f"cassette {path} has no well-formed 'interactions' list: delete it and record again")
    for number, interaction in enumerate(interactions):
        problem = _mistyped(interaction)
        if problem:
            raise UsageError(f"cassette {path}, interaction {number + 1}: {problem}: delete it and record again")
    return data


def _mistyped(interaction: dict[str, Any]) -> str | None:
    """What is not of vcrpy's shape in a YAML-valid interaction (so that a replay never meets it mid-run)."""
    request, response = interaction["request"], interaction["response"]
    if not isinstance(request.get("method"), str) or not isinstance(request.get("uri"), str):
        return "the request has no method and uri strings"
    if not isinstance(request.get("body"), str | bytes | type(None)) or not isinstance(
            request.get("headers", {}), dict):
        return "the request's body or headers are of the wrong type"
    status = response.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("code"), int) or isinstance(status.get("code"), bool):
        return "the response has no integer status code"
    body = response.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("string"), str | bytes):
        return "the response body is not a string"
    headers = response.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                                for v in headers.values()):
        return "the response headers are not lists of strings"
    return None


def check_cassette(path: Path, scrubber: Scrubber | None = None) -> None:
    read_cassette(path, scrubber)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance block of a cassette, read without parsing its (possibly large) interactions."""
    lines = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("interactions:"):
                    break
                lines.append(line)
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        header = yaml.load("".join(lines), Loader=_LOADER) or {}
    except yaml.YAMLError:
        return {}
    return header.get("provenance", {}) if isinstance(header, dict) else {}
