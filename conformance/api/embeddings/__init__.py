"""Embeddings (OpenAI API reference, "Embeddings"); served by a profile's embeddings server where it has one."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("embeddings.create", "POST", "embeddings", answer="embeddings", server="embeddings",
              sdk_required=("model", "input"), section="OpenAI API reference, Embeddings: create embeddings"),
)

ANSWERS = (
    Answer("embeddings", "EmbeddingsResponse", "an embeddings list"),
    Answer("embeddings.base64", "EmbeddingsResponseBase64", "an embeddings list (base64)"),
)
