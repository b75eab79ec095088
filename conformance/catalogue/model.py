"""What a catalogue case is made of."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from conformance.profiles import Profile

CHAT_MODEL = "<chat_model>"
EMBEDDING_MODEL = "<embedding_model>"
UNKNOWN_MODEL = "conformance-no-such-model"
# Sent by the bad-key case; deliberately not key-shaped so that no scanner mistakes it for a leak.
INVALID_API_KEY = "invalid-api-key-for-conformance"


@dataclass(frozen=True)
class Case:
    id: str
    feature: str
    title: str
    section: str  # where the documentation describes it
    endpoint: str  # "chat/completions", "embeddings", "models" or "models/<chat_model>"
    body: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)
    expect_error: tuple[int, ...] = ()
    invalid_key: bool = False
    no_key: bool = False  # sent with no credentials at all (no Authorization header, no key parameter)
    # "core": the documented features and the most used parameters (the default for live runs against keys with
    # low rate limits); "full": everything, including each invalid value OpenAI is recorded rejecting.
    tier: str = "core"
    # Where the expected answer comes from: the documentation (section) or OpenAI's recorded answer.
    oracle: str = "documentation"

    @property
    def method(self) -> str:
        return "GET" if self.endpoint.startswith("models") else "POST"

    def path(self, profile: Profile) -> str:
        """The endpoint with the model placeholder filled in (GET /models/{model})."""
        return self.endpoint.replace(CHAT_MODEL, profile.chat_model)

    @property
    def stream(self) -> bool:
        return self.body.get("stream") is True

    @property
    def kind(self) -> str:
        """Which response kind the case's answer is judged as."""
        if self.expect_error:
            return "error"
        if self.endpoint.startswith("models"):
            return "models" if self.endpoint == "models" else "model"
        if self.endpoint == "embeddings":
            return "embeddings"
        return "stream" if self.stream else "chat.completion"

    def request_body(self, profile: Profile) -> dict[str, Any]:
        """The JSON body to send to ``profile``'s server, with the model placeholders filled in."""
        body = copy.deepcopy(self.body)
        if body.get("model") == CHAT_MODEL:
            body["model"] = profile.chat_model
        elif body.get("model") == EMBEDDING_MODEL:
            body["model"] = profile.embedding_model
        return body

    def expectations(self, profile: Profile) -> dict[str, Any]:
        expect = dict(self.expect)
        if self.expect_error:
            expect["status"] = list(self.expect_error)
        if self.endpoint == "embeddings" and profile.embedding_size and "dimensions" not in self.body:
            expect.setdefault("embedding_size", profile.embedding_size)
        if self.endpoint.startswith("models"):
            expect.setdefault("model_id", profile.chat_model)
        return expect
