"""openai-conformance: how far an "OpenAI compatible" API really is from the OpenAI API."""

__version__ = "0.1.0"
