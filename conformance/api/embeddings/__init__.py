"""Embeddings (OpenAI API reference, "Embeddings"); served by a profile's embeddings server where it has one."""

from conformance.api.operation import Operation

OPERATIONS = (
    Operation("embeddings.create", "POST", "embeddings", answer="embeddings", server="embeddings",
              sdk_required=("model", "input"), section="OpenAI API reference, Embeddings: create embeddings"),
)
