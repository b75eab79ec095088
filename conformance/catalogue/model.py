"""What a catalogue case is made of."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from conformance.api import Operation, operation_for
from conformance.api.chat.conversation import Step
from conformance.model.expectations import Expectations
from conformance.run.profiles import Profile

CHAT_MODEL = "<chat_model>"
EMBEDDING_MODEL = "<embedding_model>"
IMAGE_MODEL = "<image_model>"
UNKNOWN_MODEL = "conformance-no-such-model"
# Sent by the bad-key case; deliberately not key-shaped so that no scanner mistakes it for a leak.
INVALID_API_KEY = "invalid-api-key-for-conformance"


@dataclass(frozen=True)
class Case:
    id: str
    feature: str
    title: str
    section: str  # where the documentation describes it
    endpoint: str  # the operation's path, filled: "chat/completions", "models/<chat_model>" (conformance.api)
    body: dict[str, Any]
    expect: Expectations = field(default_factory=Expectations)  # a mapping is accepted and checked
    expect_error: tuple[int, ...] = ()
    invalid_key: bool = False
    no_key: bool = False  # sent with no credentials at all (no Authorization header, no key parameter)
    # "core": the documented features and the most used parameters (the default for live runs against keys with
    # low rate limits); "full": everything, including each invalid value OpenAI is recorded rejecting.
    tier: str = "core"
    # Where the expected answer comes from: the documentation (section) or OpenAI's recorded answer.
    oracle: str = "documentation"
    # A conversation: follow-up requests, each built from the previous steps' answers as the surface's client
    # returned them (see conformance/api/chat/conversation.py). The case's own body is the first step.
    steps: tuple[Step, ...] = ()
    first_step: str = "ask"  # the first step's name in results
    reason_prefix: str = ""  # said before the reason of a failure (which of two similar cases failed)
    # The second oracle: targets whose own documentation promises this request works (target -> the page). A
    # rejection there is a FAIL against that documentation, beside the OpenAI verdict.
    documented_by: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "expect", Expectations.of(self.expect))
        except ValueError as exc:
            raise ValueError(f"case {self.id}: {exc}") from None

    in_flow: bool = False  # a follow-up step of a conversation (step_case): its answer is echoed in turn
    # A Batch API lifecycle (conformance/api/batches/lifecycle.py): the requests of the input file, each
    # {"custom_id", "body"}
    # with the model placeholder; the case's endpoint is "batches" and the runner sends each step.
    batch: tuple[dict[str, Any], ...] = ()
    http_method: str = ""  # the method, where the path alone does not name one operation

    @property
    def is_flow(self) -> bool:
        return bool(self.steps)

    @property
    def echoes(self) -> bool:
        """Whether the assistant message a client returns is needed (for a next step): only conversations."""
        return self.is_flow or self.in_flow

    def step_case(self, body: dict[str, Any], expect: Expectations | dict[str, Any], endpoint: str = "",
                  method: str = "") -> Case:
        """A follow-up step as a one-request case: the surfaces send it like any other (the model already set);
        ``endpoint`` (and ``method``) when the step is another operation than the case's."""
        if endpoint:
            return replace(self, body=body, expect=Expectations.of(expect), steps=(), in_flow=True,
                           endpoint=endpoint, http_method=method)
        return replace(self, body=body, expect=Expectations.of(expect), steps=(), in_flow=True)

    @property
    def is_batch(self) -> bool:
        return bool(self.batch)

    @property
    def operation(self) -> Operation:
        """The API operation this case's request is (conformance.api): its method, answer kind and decoding."""
        return operation_for(self.endpoint, self.http_method)[0]

    def path_params_for(self, profile: Profile) -> dict[str, str]:
        """The operation's path parameters as a client is given them: placeholders filled for ``profile``, each id
        itself (not percent-encoded)."""
        return {name: unquote(value) for name, value in
                operation_for(self.path(profile), self.http_method)[1].items()}

    @property
    def is_upload(self) -> bool:
        """A multipart upload (POST /files: the body holds ``purpose`` and ``file``: {filename, content})."""
        return self.operation.body == "multipart"

    @property
    def method(self) -> str:
        return self.operation.method

    def path(self, profile: Profile) -> str:
        """The endpoint with the model placeholder filled in (GET /models/{model})."""
        return self.endpoint.replace(CHAT_MODEL, profile.chat_model)

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True

    @property
    def kind(self) -> str:
        """Which response kind the case's answer is judged as."""
        return "error" if self.expect_error else self.operation.kind(self.body)

    def request_body(self, profile: Profile) -> dict[str, Any]:
        """The JSON body to send to ``profile``'s server, with the model placeholders filled in."""
        body = copy.deepcopy(self.body)
        if body.get("model") == CHAT_MODEL:
            body["model"] = (profile.responses_model if self.operation.family == "responses" else "") or \
                profile.chat_model
        elif body.get("model") == EMBEDDING_MODEL:
            body["model"] = profile.embedding_model
        elif body.get("model") == IMAGE_MODEL:
            body["model"] = profile.image_model or profile.chat_model
        return body

    def expectations(self, profile: Profile) -> Expectations:
        expect = self.expect
        if self.expect_error:
            expect = replace(expect, status=tuple(self.expect_error))
        family = self.operation.family
        if family == "embeddings" and profile.embedding_size and "dimensions" not in self.body:
            expect = expect.with_defaults(embedding_size=profile.embedding_size)
        if family == "models":
            expect = expect.with_defaults(model_id=profile.chat_model)
        return expect

