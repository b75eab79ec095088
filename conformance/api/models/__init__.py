"""Models (OpenAI API reference, "Models"): the list clients pick from, and one model described."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("models.list", "GET", "models", answer="models", body="none",
              section="OpenAI API reference, Models: list models"),
    Operation("models.retrieve", "GET", "models/{model}", answer="model", body="none",
              section="OpenAI API reference, Models: retrieve model"),
)

ANSWERS = (
    Answer("models", "ListModelsResponse", "a model list"),
    Answer("model", "Model", "a model object", object="model"),
)
