"""The reference target: llama-cpp-python's OpenAI-compatible server on loopback, with a tiny generated model."""
