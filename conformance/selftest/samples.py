"""A recorded exchange in a form injectors can edit: the request, the status, the headers and the body,
with streams kept as their raw event payloads (so that "an event that is not JSON" can be injected too)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from conformance.api import is_stream
from conformance.catalogue import case_by_id
from conformance.judge.analysis import judge
from conformance.model.errors import UsageError
from conformance.model.expectations import Expectations
from conformance.model.findings import Finding
from conformance.model.verdicts import Verdict
from conformance.surfaces.base import SurfaceOutcome
from conformance.wire.exchange import Exchange
from conformance.wire.sse import parse_stream, serialise


@dataclass
class Sample:
    name: str  # "<target>/<surface>/<case>"
    case: str
    kind: str  # chat.completion | stream | embeddings | error | response | responses.stream | ...
    request: dict[str, Any]
    status: int
    content_type: str
    body: Any = None
    events: list[str] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)  # each event's SSE name (the Responses API names them)
    done: bool = True
    expect: Expectations = field(default_factory=Expectations)

    def copy(self) -> Sample:
        return replace(self, request=copy.deepcopy(self.request), body=copy.deepcopy(self.body),
                       events=list(self.events), names=list(self.names), expect=self.expect)

    @property
    def chunks(self) -> list[Any]:
        return parse_stream(self.stream_text()).chunks

    def set_chunks(self, chunks: list[Any]) -> None:
        """The events replaced; a named stream's events keep being named by their type."""
        self.events = [json.dumps(c) for c in chunks]
        if self.names:
            self.names = [c.get("type") if isinstance(c, dict) and isinstance(c.get("type"), str) else None
                          for c in chunks]

    def stream_text(self) -> str:
        return serialise(self.events + (["[DONE]"] if self.done else []), names=self.names or None)

    def response_text(self) -> str:
        if is_stream(self.kind):
            return self.stream_text()
        return "" if self.body is NOT_JSON else json.dumps(self.body)

    def judge(self) -> tuple[Verdict, list[Finding]]:
        """Exactly what a run would conclude from this exchange (same code path as the catalogue)."""
        exchange = Exchange(method="POST", url="", request_headers={}, request_body=json.dumps(self.request),
                            status=self.status, response_headers={"content-type": self.content_type},
                            response_body=self.response_text())
        verdict, _, found = judge(case_by_id(self.case), SurfaceOutcome(exchanges=[exchange]), self.request,
                                  self.expect)
        return verdict, found

    def findings(self) -> list[Finding]:
        return self.judge()[1]


NOT_JSON = object()


def load_samples(folder: str | Path) -> list[Sample]:
    """Every cassette below ``folder`` (``<target>/<surface>/<case>.yaml``), as samples."""
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"cassette folder {root} not found: give --cassettes with a folder of recorded cassettes")
    samples = []
    for path in sorted(root.rglob("*.yaml")):
        sample = sample_from_cassette(path, root)
        if sample is not None:
            samples.append(sample)
    return samples


def sample_from_cassette(path: Path, root: Path) -> Sample | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read cassette {path} ({type(exc).__name__}): delete it and record again") from None
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not interactions:
        return None
    last = interactions[-1]
    try:
        case = case_by_id(path.stem)
    except KeyError:
        return None  # not a catalogue case (e.g. a saved fuzz case): nothing to compare against
    if case.is_batch:
        return None  # a lifecycle of several answers (upload, batch, output file): injectors act on one answer
    raw_request = last["request"].get("body") or "{}"
    try:
        request = json.loads(raw_request if isinstance(raw_request, str) else raw_request.decode())
    except (ValueError, RecursionError):
        return None  # not a request the catalogue sent: nothing to inject into
    response = last["response"]
    headers = {k.lower(): v[0] if isinstance(v, list) and v else v for k, v in response.get("headers", {}).items()}
    text = response["body"]["string"]
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    status = response["status"]["code"]
    kind = "error" if case.expect_error or status >= 400 else case.kind  # a refusal of a stream is a JSON body
    sample = Sample(name=str(path.relative_to(root).with_suffix("")), case=case.id, kind=kind, request=request,
                    status=status, content_type=headers.get("content-type", ""),
                    expect=replace(case.expect, status=tuple(case.expect_error)) if case.expect_error else case.expect)
    if is_stream(kind):
        parsed = parse_stream(text)
        sample.events, sample.done = [json.dumps(c) for c in parsed.chunks], parsed.done
        if any(name is not None for name in parsed.event_names):
            sample.names = list(parsed.event_names)
    else:
        try:
            sample.body = json.loads(text)
        except (ValueError, RecursionError):
            sample.body = NOT_JSON
    return sample
