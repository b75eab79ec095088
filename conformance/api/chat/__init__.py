"""Chat Completions (OpenAI API reference, "Chat"): one operation, answered by a completion or a chunk stream."""

from conformance.api.operation import Answer, Operation

OPERATIONS = (
    Operation("chat.create", "POST", "chat/completions", answer="chat.completion", streamed="stream",
              events="chat.completion.chunk",
              sdk_required=("model", "messages"), section="OpenAI API reference, Chat: create chat completion"),
)

ANSWERS = (
    Answer("chat.completion", "ChatCompletion", "a chat completion", object="chat.completion"),
    Answer("chat.completion.chunk", "ChatCompletionChunk", "every stream chunk", object="chat.completion.chunk"),
)
