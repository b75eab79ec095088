"""The cassette layer: where exchanges are stored, how requests match, and what is scrubbed before writing.

Cassettes are vcrpy YAML files (one per case and surface) with a ``provenance`` block in front saying what
was recorded, from where, when and by which suite version. They are written atomically and refused on load when
they contain anything that looks like a key.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.serialize import deserialize, serialize

from conformance import __version__, atomic
from conformance.errors import UsageError
from conformance.scrub import REDACTED, SECRET_HEADERS, SECRET_QUERY_PARAMETERS, Scrubber, looks_like_key

CASSETTE_SUFFIX = ".yaml"


def cassette_path(cassette_dir: str | Path, surface: str, case_id: str) -> Path:
    return Path(cassette_dir) / surface / f"{case_id}{CASSETTE_SUFFIX}"


def cassette_name(surface: str, case_id: str) -> str:
    return f"{surface}/{case_id}"


class CassetteSecretError(UsageError):
    """A cassette on disk holds something key-shaped: it must be scrubbed or deleted before it is used."""


def json_body_matcher(r1: Any, r2: Any) -> None:
    """Match request bodies as JSON values (key order and spacing do not matter), else byte for byte."""
    b1, b2 = _body_value(r1.body), _body_value(r2.body)
    if b1 != b2:
        raise AssertionError(f"request bodies differ: {str(b1)[:120]} != {str(b2)[:120]}")


def _body_value(body: Any) -> Any:
    if body is None:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        return text


def vcr_config(scrubber: Scrubber) -> dict[str, Any]:
    """The vcrpy settings every surface records and replays with."""

    def scrub_request(request: Any) -> Any:
        if request.body:
            raw = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
            cleaned = scrubber.text(raw)
            if cleaned != raw:
                request.body = cleaned.encode("utf-8")
        request.uri = scrubber.url(request.uri)
        return request

    def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {}).get("string")
        if isinstance(body, bytes):
            text = body.decode("utf-8", "replace")
            if scrubber.text(text) != text:
                response["body"]["string"] = scrubber.text(text).encode("utf-8")
        elif isinstance(body, str):
            response["body"]["string"] = scrubber.text(body)
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in SECRET_HEADERS:
                headers[name] = [REDACTED]
            else:
                headers[name] = [scrubber.text(v) if isinstance(v, str) else v for v in headers[name]]
        return response

    return {
        "filter_headers": [(h, REDACTED) for h in sorted(SECRET_HEADERS)],
        "filter_query_parameters": [(q, REDACTED) for q in sorted(SECRET_QUERY_PARAMETERS)],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "match_on": ["method", "path", "json_body"],
        "decode_compressed_response": True,
    }


class ConformancePersister:
    """vcrpy persister: provenance header, atomic writes, and a refusal to load key-shaped content.

    ``ignore_existing`` makes a re-recording replace cassettes only when each new one is saved whole (instead of
    deleting them up front); ``frozen`` stops all saving once a run is interrupted, so that a test cut off
    mid-exchange never replaces a good cassette with a partial one.
    """

    provenance: dict[str, Any] = {}
    ignore_existing = False
    frozen = False

    @classmethod
    def load_cassette(cls, cassette_path: str | Path, serializer: Any) -> Any:
        path = Path(cassette_path)
        if cls.ignore_existing or not path.is_file():
            raise CassetteNotFoundError()
        try:
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read cassette {path}: {exc}") from None
        if not data.strip():
            raise CassetteNotFoundError()
        leak = looks_like_key(data)
        if leak:
            raise CassetteSecretError(f"cassette {path} contains something that looks like an API key ({leak}): "
                                      "delete it and record again")
        try:
            return deserialize(data, serializer)
        except Exception as exc:
            raise UsageError(f"cassette {path} is corrupt ({type(exc).__name__}): delete it and record again") \
                from None

    @classmethod
    def save_cassette(cls, cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        if cls.frozen:
            return
        body = serialize(cassette_dict, serializer)
        header = {"provenance": {**cls.provenance, "recorded_at": now_iso(), "suite_version": __version__}}
        text = (
            "# Recorded by openai-conformance from a live server; secrets scrubbed before writing.\n"
            + yaml.safe_dump(header, sort_keys=False)
            + body
        )
        leak = looks_like_key(text)
        if leak:
            raise CassetteSecretError(f"refusing to write {cassette_path}: it would contain a key-like string ({leak})")
        atomic.write_text(cassette_path, text)


def check_cassette(path: Path) -> None:
    """Refuse, with a one-line reason and fix, a cassette that is unreadable, corrupt or holds a key-like string."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read cassette {path} ({exc}): fix its permissions or delete it and record again") \
            from None
    leak = looks_like_key(text)
    if leak:
        raise CassetteSecretError(f"cassette {path} contains something that looks like an API key ({leak}): "
                                  "delete it and record again; nothing was run")
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"cassette {path} is not valid YAML{where}: delete it and record again") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise UsageError(f"cassette {path} has no 'interactions' list: delete it and record again")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    except OSError:
        return {}
    try:
        header = yaml.safe_load("".join(lines)) or {}
    except yaml.YAMLError:
        return {}
    return header.get("provenance", {}) if isinstance(header, dict) else {}
