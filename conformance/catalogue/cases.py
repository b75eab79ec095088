"""The cases, in the order of Gemini's OpenAI-compatibility documentation and the OpenAI API reference.

Requests send only the parameters a case tests: a server that rejects unknown fields must not fail a case for a
parameter it was not about.
"""

from __future__ import annotations

from typing import Any

from conformance.api import families
from conformance.api.chat.conversation import Step, continue_chat, continue_with_tool_results
from conformance.catalogue.media import tiny_png_data_url, tiny_wav_base64
from conformance.catalogue.model import CHAT_MODEL, EMBEDDING_MODEL, IMAGE_MODEL, UNKNOWN_MODEL, Case
from conformance.model.expectations import Expectations

GEMINI_DOC = "https://ai.google.dev/gemini-api/docs/openai"
OPENAI_CHAT = "https://platform.openai.com/docs/api-reference/chat/create"
OPENAI_EMBEDDINGS = "https://platform.openai.com/docs/api-reference/embeddings/create"
OPENAI_ERRORS = "https://platform.openai.com/docs/guides/error-codes"
OPENAI_TOOLS = "https://platform.openai.com/docs/guides/function-calling"
OPENAI_STREAMING = "https://platform.openai.com/docs/api-reference/chat-streaming"
OPENAI_BATCH = "https://platform.openai.com/docs/guides/batch"

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
GREETING = [SYSTEM, {"role": "user", "content": "Explain to me how AI works"}]

# The documentation's function-calling example.
GET_WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. Chicago, IL"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
GET_TIME: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the current local time in a given location",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "The city, e.g. Tokyo"}},
            "required": ["location"],
        },
    },
}
# The same function in strict mode (OpenAI guide, Function calling, "Strict mode": every property required,
# additionalProperties false): the server must make the arguments follow the schema.
GET_WEATHER_STRICT: dict[str, Any] = {"type": "function", "function": {
    **GET_WEATHER["function"], "strict": True,
    "parameters": {**GET_WEATHER["function"]["parameters"], "required": ["location", "unit"],
                   "additionalProperties": False}}}
WEATHER_QUESTION = [{"role": "user", "content": "What's the weather like in Chicago today?"}]
TOOL_ROUND_TRIP = [
    {"role": "user", "content": "What's the weather like in Chicago today?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_conformance_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Chicago, IL", "unit": "celsius"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_conformance_1", "content": '{"temperature": 22, "unit": "celsius"}'},
]


def chat(**body: Any) -> dict[str, Any]:
    return {"model": CHAT_MODEL, **body}


def embed(**body: Any) -> dict[str, Any]:
    return {"model": EMBEDDING_MODEL, **body}


CASES: list[Case] = [
    # --- Chat completions -------------------------------------------------------------------------------------
    Case("chat.system_user", "Chat completions", "System and user message", f"{GEMINI_DOC}#chat-completions",
         "chat/completions", chat(messages=GREETING)),
    Case("chat.multi_turn", "Chat completions", "Multi-turn conversation with an assistant turn", OPENAI_CHAT,
         "chat/completions",
         chat(messages=[SYSTEM, {"role": "user", "content": "Hello!"},
                        {"role": "assistant", "content": "Hi! How can I help you today?"},
                        {"role": "user", "content": "Tell me a fact about the sea."}])),
    Case("chat.max_tokens", "Chat completions", "max_tokens limits the answer", OPENAI_CHAT, "chat/completions",
         chat(messages=GREETING, max_tokens=5)),
    Case("chat.stop", "Chat completions", "stop sequences end the answer", OPENAI_CHAT, "chat/completions",
         chat(messages=[{"role": "user", "content": "Count from 1 to 10, separated by spaces."}], stop=["5"])),
    # --- n ---------------------------------------------------------------------------------------------------
    Case("n.one", "Several choices (n)", "n=1 gives one choice", OPENAI_CHAT, "chat/completions",
         chat(messages=GREETING, n=1)),
    Case("n.two", "Several choices (n)", "n=2 gives two full choices, index 0 and 1", OPENAI_CHAT,
         "chat/completions", chat(messages=GREETING, n=2)),
    # --- Streaming -------------------------------------------------------------------------------------------
    Case("stream.basic", "Streaming", "Streamed answer as SSE chunks ending with [DONE]", f"{GEMINI_DOC}#streaming",
         "chat/completions", chat(messages=GREETING, stream=True)),
    Case("stream.include_usage", "Streaming", "stream_options.include_usage adds a final usage chunk",
         OPENAI_STREAMING, "chat/completions",
         chat(messages=GREETING, stream=True, stream_options={"include_usage": True})),
    # --- Function calling ------------------------------------------------------------------------------------
    Case("tools.auto", "Function calling", "tool_choice=auto with the documentation's get_weather",
         f"{GEMINI_DOC}#function-calling", "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="auto"),
         expect=Expectations(tool_call_expected=True)),
    Case("tools.none", "Function calling", "tool_choice=none answers without a tool call", OPENAI_TOOLS,
         "chat/completions", chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="none")),
    Case("tools.required", "Function calling", "tool_choice=required forces a tool call", OPENAI_TOOLS,
         "chat/completions", chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="required")),
    Case("tools.named", "Function calling", "A named tool_choice calls that function", OPENAI_TOOLS,
         "chat/completions",
         chat(messages=[{"role": "user", "content": "What time is it in Tokyo, and what's the weather there?"}],
              tools=[GET_WEATHER, GET_TIME], tool_choice={"type": "function", "function": {"name": "get_time"}})),
    Case("tools.allowed", "Function calling", "tool_choice allowed_tools (mode required): a call to an allowed "
         "function only", f"{OPENAI_TOOLS}#tool-choice", "chat/completions",
         chat(messages=[{"role": "user", "content": "What time is it in Tokyo, and what's the weather there?"}],
              tools=[GET_WEATHER, GET_TIME],
              tool_choice={"type": "allowed_tools", "allowed_tools": {
                  "mode": "required", "tools": [{"type": "function", "function": {"name": "get_weather"}}]}}),
         tier="full"),
    Case("tools.strict", "Function calling", "A strict function (strict: true, named in tool_choice): the "
         "arguments follow its parameters schema", f"{OPENAI_TOOLS}#strict-mode", "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER_STRICT],
              tool_choice={"type": "function", "function": {"name": "get_weather"}}), tier="full"),
    Case("tools.parallel", "Function calling", "Two tools called in parallel in one turn", OPENAI_TOOLS,
         "chat/completions",
         chat(messages=[{"role": "user", "content": "What is the weather in Paris and what time is it in Tokyo? "
                                                    "Use both tools."}],
              tools=[GET_WEATHER, GET_TIME], tool_choice="auto"),
         expect=Expectations(min_tool_calls=2)),
    Case("tools.result_round_trip", "Function calling",
         "A tool result sent back gets a final answer (a fixed, hand-written history)", OPENAI_TOOLS,
         "chat/completions", chat(messages=TOOL_ROUND_TRIP, tools=[GET_WEATHER]),
         reason_prefix="fixed transcript (a history the server did not write): "),
    Case("tools.stream", "Function calling", "Streamed tool call deltas assemble into a call", OPENAI_TOOLS,
         "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER],
              tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True)),
    Case("stream.tools_auto", "Function calling", "tool_choice auto, streamed: the call assembles from its deltas",
         f"{GEMINI_DOC}#function-calling", "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="auto", stream=True),
         expect=Expectations(tool_call_expected=True), tier="full"),
    Case("stream.tools_parallel", "Function calling", "Two tools called in parallel, streamed (each call its own "
         "index)", OPENAI_TOOLS, "chat/completions",
         chat(messages=[{"role": "user", "content": "What is the weather in Paris and what time is it in Tokyo? "
                                                    "Use both tools."}],
              tools=[GET_WEATHER, GET_TIME], tool_choice="auto", stream=True),
         expect=Expectations(min_tool_calls=2), tier="full"),
    # --- Embeddings ------------------------------------------------------------------------------------------
    Case("embeddings.single", "Embeddings", "One string in, one vector out", f"{GEMINI_DOC}#embeddings",
         "embeddings", embed(input="Your text string goes here", encoding_format="float")),
    Case("embeddings.batch", "Embeddings", "A batch of inputs: one vector each, in index order", OPENAI_EMBEDDINGS,
         "embeddings", embed(input=["The sea is blue.", "The sky is grey.", "Grass is green."],
                             encoding_format="float")),
    Case("embeddings.dimensions", "Embeddings", "dimensions shortens the vectors", OPENAI_EMBEDDINGS, "embeddings",
         embed(input="Your text string goes here", dimensions=32, encoding_format="float")),
    Case("embeddings.base64", "Embeddings", "encoding_format=base64 returns float32 vectors in base64",
         OPENAI_EMBEDDINGS, "embeddings", embed(input="Your text string goes here", encoding_format="base64")),
    # --- Errors ----------------------------------------------------------------------------------------------
    # A bad or missing key is 401 (OpenAI's error-codes guide: "401 - Invalid Authentication", "Incorrect API key
    # provided"); a 403 makes both SDKs raise PermissionDeniedError where code written for OpenAI catches
    # AuthenticationError.
    Case("errors.bad_key", "Errors", "An invalid API key is rejected with 401", OPENAI_ERRORS, "chat/completions",
         chat(messages=[{"role": "user", "content": "Hello"}]), expect_error=(401,), invalid_key=True),
    Case("errors.no_key", "Errors", "A request without any API key is rejected with 401", OPENAI_ERRORS,
         "chat/completions", chat(messages=[{"role": "user", "content": "Hello"}]), expect_error=(401,),
         no_key=True),
    # OpenAI answers an unknown model with 404 and code "model_not_found" (its recorded answers in
    # shared/reference/openai-recordings).
    Case("errors.unknown_model", "Errors", "An unknown model is rejected with 404 model_not_found", OPENAI_ERRORS,
         "chat/completions", {"model": UNKNOWN_MODEL, "messages": [{"role": "user", "content": "Hello"}]},
         expect=Expectations(error_code="model_not_found"), expect_error=(404,)),
    Case("errors.invalid_parameter", "Errors", "An invalid parameter value is rejected with 400", OPENAI_ERRORS,
         "chat/completions", chat(messages=[{"role": "user", "content": "Hello"}], temperature="hot"),
         expect_error=(400,)),
]

# --- Invalid requests, judged by OpenAI's recorded answer --------------------------------------------------------
# Each sends a valid request but for one parameter, with a value OpenAI was recorded rejecting; the expected answer
# (status, error.code, error.param) is that recording's, from conformance/data/openai-answers.json.
INVALID_VALUES: list[tuple[str, Any]] = [
    ("temperature", "foo"), ("temperature", -1), ("temperature", 1000000000), ("top_p", -1), ("top_p", 2),
    ("n", 0), ("n", "foo"), ("presence_penalty", 3), ("presence_penalty", -3), ("frequency_penalty", 1000000000),
    ("max_tokens", 0), ("max_completion_tokens", 0), ("logprobs", "foo"), ("top_logprobs", -1), ("stop", 123),
    ("seed", "foo"), ("user", 123), ("service_tier", "foo"), ("stream", "foo"), ("response_format", "foo"),
    ("parallel_tool_calls", "foo"), ("messages", "<absent>"),
]
_KIND = {"invalid_type": "type", "decimal_above_max_value": "above_max", "integer_above_max_value": "above_max",
         "decimal_below_min_value": "below_min", "integer_below_min_value": "below_min",
         "invalid_value": "value", "missing_required_parameter": "missing"}


def invalid_case(param: str, value: Any) -> Case:
    from conformance.judge.openai_answers import answer

    fact = answer(param, value)
    body = chat(messages=[{"role": "user", "content": "Hello"}])
    if value == "<absent>":
        body.pop(param)
        title = f"A request without {param} is rejected"
    else:
        body[param] = value
        title = f"{param}={value!r} is rejected"
    return Case(f"params.invalid.{param}.{_KIND[fact['code']]}", "Invalid requests",
                f"{title} ({fact['status']} {fact['code']}, param {fact['error_param']})", f"{OPENAI_CHAT}#{param}",
                "chat/completions", body, expect=Expectations(error_code=fact["code"], error_param=fact["error_param"]),
                expect_error=(fact["status"],), tier="full", oracle="OpenAI's recorded answer (openai-answers.json)")


def _unique(cases: list[Case]) -> list[Case]:
    seen: set[str] = set()
    out = []
    for case in cases:
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    return out


CASES += _unique([invalid_case(param, value) for param, value in INVALID_VALUES])

# The same for embeddings: OpenAI's answers there are 400 invalid_request_error with neither code nor param, so the
# status (and the error's shape) is what a server is held to. Named by what is wrong with the value.
INVALID_EMBEDDINGS: list[tuple[str, Any, str]] = [
    ("dimensions", 0, "zero"), ("dimensions", -1, "negative"), ("encoding_format", "unknown", "value"),
    ("input", True, "type"), ("user", 123, "type"),
]
# OpenAI also rejects input [""]; it is left out because llama-cpp-python 0.3.36 fails it in llama_decode and then
# crashes (general protection fault) at the next request, taking the reference server down for every later case.


def invalid_embeddings_case(param: str, value: Any, kind: str) -> Case:
    from conformance.judge.openai_answers import answer

    fact = answer(param, value, endpoint="embeddings")
    body = embed(input="hello", encoding_format="float")
    body[param] = value
    return Case(f"params.invalid.embeddings.{param}.{kind}", "Invalid requests",
                f"Embeddings with {param}={value!r} are rejected ({fact['status']} {fact['type']})",
                f"{OPENAI_EMBEDDINGS}#{param}", "embeddings", body,
                expect=Expectations(error_code=fact["code"], error_param=fact["error_param"]),
                expect_error=(fact["status"],), tier="full", oracle="OpenAI's recorded answer (openai-answers.json)")


CASES += [invalid_embeddings_case(*spec) for spec in INVALID_EMBEDDINGS]

# --- Today's Gemini features beside the seed's (its OpenAI-compatibility page documents them) --------------------
# Every reasoning_effort value of the pinned spec (ReasoningEffort, openai-openapi@f85dbe2), and the ones Gemini's
# OpenAI-compatibility page documents ("low", "medium", "high" mapped to thinking budgets or levels, "none" off).
REASONING_EFFORT = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
GEMINI_DOCUMENTED_EFFORT = ("none", "minimal", "low", "medium", "high")  # for some model: see the profiles

CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}
CITY_QUESTION = [{"role": "user", "content": "Name one large city and its country, as JSON."}]

CASES += [
    Case("structured.json_object", "Structured output", "response_format json_object: the answer is a JSON object",
         f"{GEMINI_DOC}#structured-output", "chat/completions",
         chat(messages=CITY_QUESTION, response_format={"type": "json_object"})),
    Case("structured.json_schema", "Structured output",
         "response_format json_schema (strict): the answer validates against the schema",
         f"{GEMINI_DOC}#structured-output", "chat/completions",
         chat(messages=CITY_QUESTION, response_format={"type": "json_schema", "json_schema": {
             "name": "city", "strict": True, "schema": CITY_SCHEMA}})),
    Case("vision.image_data_url", "Image input", "An image in a user turn (a PNG data URL) is understood",
         f"{GEMINI_DOC}#image-understanding", "chat/completions",
         chat(messages=[{"role": "user", "content": [
             {"type": "text", "text": "What colour is this image? Answer in one word."},
             {"type": "image_url", "image_url": {"url": tiny_png_data_url()}}]}]), tier="full"),
    Case("models.list", "Models", "GET /models lists the models, the chat model among them",
         f"{GEMINI_DOC}#list-models", "models", {}),
    Case("models.retrieve", "Models", "GET /models/{model} describes one model", f"{GEMINI_DOC}#retrieve-a-model",
         f"models/{CHAT_MODEL}", {}, tier="full"),
    *[Case(f"reasoning.effort.{value}", "Reasoning", f"reasoning_effort {value!r} is accepted and an answer comes back",
           f"{OPENAI_CHAT}#reasoning_effort", "chat/completions", chat(messages=GREETING, reasoning_effort=value),
           tier="full", documented_by={"gemini": f"{GEMINI_DOC}#thinking", "vertex": f"{GEMINI_DOC}#thinking"}
           if value in GEMINI_DOCUMENTED_EFFORT else {})
      for value in REASONING_EFFORT],
    Case("reasoning.effort.stream", "Reasoning", "reasoning_effort low, streamed with usage: the usage chunk says "
         "how many tokens were reasoning", f"{GEMINI_DOC}#thinking", "chat/completions",
         chat(messages=GREETING, reasoning_effort="low", stream=True, stream_options={"include_usage": True}),
         tier="full", documented_by={"gemini": f"{GEMINI_DOC}#thinking", "vertex": f"{GEMINI_DOC}#thinking"}),
    Case("audio.input_wav", "Audio input", "A short WAV in an input_audio part is understood",
         f"{GEMINI_DOC}#audio-understanding", "chat/completions",
         chat(messages=[{"role": "user", "content": [
             {"type": "text", "text": "What do you hear? Answer in one sentence."},
             {"type": "input_audio", "input_audio": {"data": tiny_wav_base64(), "format": "wav"}}]}]), tier="full",
         documented_by={"gemini": f"{GEMINI_DOC}#audio-understanding"}),
    Case("stream.image_input", "Image input", "An image in a user turn, the answer streamed",
         f"{GEMINI_DOC}#image-understanding", "chat/completions",
         chat(messages=[{"role": "user", "content": [
             {"type": "text", "text": "What colour is this image? Answer in one word."},
             {"type": "image_url", "image_url": {"url": tiny_png_data_url()}}]}], stream=True), tier="full"),
    Case("stream.json_schema", "Structured output", "response_format json_schema, streamed: the joined "
         "text validates against the schema", f"{GEMINI_DOC}#structured-output", "chat/completions",
         chat(messages=CITY_QUESTION, stream=True, response_format={"type": "json_schema", "json_schema": {
             "name": "city", "strict": True, "schema": CITY_SCHEMA}}), tier="full"),
    Case("images.generate", "Image generation", "images.generate: one image as b64_json that decodes to a real "
         "image", f"{GEMINI_DOC}#image-generation", "images/generations",
         {"model": IMAGE_MODEL, "prompt": "A red square on a white background", "n": 1,
          "response_format": "b64_json"}, tier="full", documented_by={"gemini": f"{GEMINI_DOC}#image-generation"}),
    # size is the one image parameter the page says is honoured (the others are silently ignored).
    Case("images.size", "Image generation", "images.generate with a size: one image of that size",
         f"{GEMINI_DOC}#image-generation", "images/generations",
         {"model": IMAGE_MODEL, "prompt": "A red square on a white background", "n": 1, "size": "1024x1024",
          "response_format": "b64_json"}, tier="full", documented_by={"gemini": f"{GEMINI_DOC}#image-generation"}),
    # The Batch API through the SDK, as the layer documents it (Google's post "Gemini Batch API now supports
    # Embeddings and OpenAI Compatibility", 2025-09-08): files.create (JSONL, purpose batch), batches.create,
    # batches.retrieve until it ends, the output file read and judged line by line, the files deleted.
    Case("batch.chat_completions", "Batch API", "Batch API: two chat requests in a JSONL file, the batch created and "
         "followed until it ends, its output judged line by line, the files deleted", f"{OPENAI_BATCH}",
         "batches", {}, batch=(
             {"custom_id": "conformance-greeting", "body": chat(messages=GREETING)},
             {"custom_id": "conformance-counting", "body": chat(messages=[
                 {"role": "user", "content": "Count from 1 to 3, separated by spaces."}], max_completion_tokens=20)},
         ), tier="full", documented_by={"gemini": GEMINI_DOC}),
    Case("batch.embedding_requests", "Batch API", "Batch API for embeddings (the same post: the batch endpoint takes "
         "/v1/embeddings): two embeddings requests, each output line judged as an embeddings list", OPENAI_BATCH,
         "batches", {}, batch=(
             {"custom_id": "conformance-one", "url": "/v1/embeddings", "body": embed(input="Sky blue")},
             {"custom_id": "conformance-two", "url": "/v1/embeddings", "body": embed(input=["red", "green"])},
         ), tier="full", documented_by={"gemini": GEMINI_DOC}),
    Case("stream.stop", "Streaming", "stop sequences end a streamed answer too", OPENAI_STREAMING,
         "chat/completions", chat(messages=[{"role": "user", "content": "Count from 1 to 10, separated by spaces."}],
                                  stop=["5"], stream=True), tier="full"),
    Case("stream.max_completion_tokens", "Streaming", "max_completion_tokens limits a streamed answer (usage says by "
         "how much)", OPENAI_STREAMING, "chat/completions",
         chat(messages=GREETING, max_completion_tokens=5, stream=True, stream_options={"include_usage": True}),
         tier="full"),
    Case("chat.service_tier.flex", "Chat completions", "service_tier flex is accepted", f"{OPENAI_CHAT}#service_tier",
         "chat/completions", chat(messages=GREETING, service_tier="flex"), tier="full",
         documented_by={"gemini": GEMINI_DOC}),
    # The page documents service_tier "priority" beside "flex" (both values of the pinned spec's ServiceTier).
    Case("chat.service_tier.priority", "Chat completions", "service_tier priority is accepted",
         f"{OPENAI_CHAT}#service_tier", "chat/completions", chat(messages=GREETING, service_tier="priority"),
         tier="full", documented_by={"gemini": GEMINI_DOC}),
    # Gemini 3's thinking control through extra_body, as the page's example writes it today (thinking_level).
    Case("reasoning.thinking_level", "Reasoning", "extra_body thinking_config with a thinking_level, as Gemini's "
         "layer documents it for Gemini 3", f"{GEMINI_DOC}#thinking", "chat/completions",
         chat(messages=GREETING, extra_body={"google": {"thinking_config": {"thinking_level": "low",
                                                                            "include_thoughts": True}}}),
         tier="full", oracle="the layer's documentation",
         documented_by={"gemini": f"{GEMINI_DOC}#thinking", "vertex": f"{GEMINI_DOC}#thinking"}),
    # Gemini's own thinking configuration through the OpenAI SDK's extra_body (the layer's documentation): the body
    # carries an "extra_body" object with Google's thinking_config. Not an OpenAI parameter: OpenAI rejects it.
    Case("reasoning.thinking_config", "Reasoning", "extra_body thinking_config (a budget, thoughts included), as "
         "Gemini's layer documents it", f"{GEMINI_DOC}#thinking", "chat/completions",
         chat(messages=GREETING, extra_body={"google": {"thinking_config": {"thinking_budget": 800,
                                                                            "include_thoughts": True}}}),
         tier="full", oracle="the layer's documentation",
         documented_by={"gemini": f"{GEMINI_DOC}#thinking", "vertex": f"{GEMINI_DOC}#thinking"}),
]

# --- Accepted parameters: each documented value is accepted, and its effect checked where it can be ----------------
COUNTING = [{"role": "user", "content": "Count from 1 to 10, separated by spaces."}]


def accepted(case_id: str, title: str, body: dict[str, Any], tier: str = "full", **expect: Any) -> Case:
    param = case_id.split(".")[2]
    return Case(case_id, "Request parameters", title, f"{OPENAI_CHAT}#{param}", "chat/completions", body,
                expect=Expectations.of(expect), tier=tier)


CASES += [
    accepted("params.accepted.max_completion_tokens", "max_completion_tokens limits the answer",
             chat(messages=GREETING, max_completion_tokens=5), tier="core"),
    accepted("params.accepted.stop.string", "stop as a single string ends the answer",
             chat(messages=COUNTING, stop="5")),
    accepted("params.accepted.stop.list", "stop as a list of four sequences ends the answer",
             chat(messages=COUNTING, stop=["5", "five", "FIVE", "Five"])),
    accepted("params.accepted.seed", "seed is accepted", chat(messages=GREETING, seed=7)),
    accepted("params.accepted.temperature.bounds", "temperature 0 (its lower bound) is accepted",
             chat(messages=GREETING, temperature=0)),
    accepted("params.accepted.temperature.max", "temperature 2 (its upper bound) is accepted",
             chat(messages=GREETING, temperature=2, max_tokens=16)),
    accepted("params.accepted.top_p.bounds", "top_p 1 (its upper bound) is accepted", chat(messages=GREETING, top_p=1)),
    accepted("params.accepted.presence_penalty", "presence_penalty -2 and frequency_penalty 2 (their bounds)",
             chat(messages=GREETING, presence_penalty=-2, frequency_penalty=2)),
    accepted("params.accepted.logprobs", "logprobs with top_logprobs 2 come back per token",
             chat(messages=GREETING, logprobs=True, top_logprobs=2, max_tokens=8), tier="core"),
    accepted("params.accepted.parallel_tool_calls", "parallel_tool_calls false: at most one call per turn",
             chat(messages=[{"role": "user", "content": "What is the weather in Paris and what time is it in Tokyo?"}],
                  tools=[GET_WEATHER, GET_TIME], parallel_tool_calls=False)),
    accepted("params.accepted.developer_role", "A developer message (the system role's successor) is accepted",
             chat(messages=[{"role": "developer", "content": "Answer briefly."},
                            {"role": "user", "content": "Explain to me how AI works"}]), tier="core"),
    accepted("params.accepted.user", "user (an end-user id) is accepted", chat(messages=GREETING, user="user-1234")),
    # Parameters of the pinned spec that common clients and frameworks send by default (stored-completion flags,
    # request metadata, caching and safety ids, a neutral logit bias): refusing one fails every request such a
    # client makes.
    accepted("params.accepted.store", "store false (a stored-completions flag clients send) is accepted",
             chat(messages=GREETING, store=False)),
    accepted("params.accepted.metadata", "metadata (key-value pairs for the request) is accepted",
             chat(messages=GREETING, metadata={"app": "openai-conformance"})),
    accepted("params.accepted.prompt_cache_key", "prompt_cache_key (a caching hint) is accepted",
             chat(messages=GREETING, prompt_cache_key="conformance-cache-1")),
    accepted("params.accepted.safety_identifier", "safety_identifier (a hashed end-user id) is accepted",
             chat(messages=GREETING, safety_identifier="user-hash-1234")),
    accepted("params.accepted.logit_bias", "logit_bias (a neutral bias of 0 on one token) is accepted",
             chat(messages=GREETING, logit_bias={"1": 0})),
    Case("params.accepted.embeddings.tokens", "Request parameters", "Embeddings input as a list of token arrays",
         f"{OPENAI_EMBEDDINGS}#input", "embeddings",
         embed(input=[[9906, 1917], [791, 8415, 374, 6437]], encoding_format="float"), tier="full"),
]

# --- Conversations: each next request is built from the answer as the surface's client returned it ---------------
# One entry each: the first request, then the steps that continue it (conformance/api/chat/conversation.py builds
# them, answering
# tool calls with the suite's own deterministic tools).
TOOL_RESULT = Step("tool result", continue_with_tool_results)
OPENAI_FLOW = f"{OPENAI_TOOLS}#handling-function-calls"
CASES += [
    Case("flow.tool_loop", "Conversations", "Tool call, the client's message and the tool result sent back, "
         "an answer (live first turn)", OPENAI_FLOW, "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="auto"),
         expect=Expectations(tool_call_expected=True), steps=(TOOL_RESULT,)),
    Case("flow.tool_loop.stream", "Conversations", "The same loop streamed: the message the client's stream "
         "helper assembled is sent back", OPENAI_FLOW, "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="auto", stream=True),
         expect=Expectations(tool_call_expected=True), steps=(TOOL_RESULT,)),
    Case("flow.parallel_results", "Conversations", "Two parallel calls answered together in one turn", OPENAI_FLOW,
         "chat/completions",
         chat(messages=[{"role": "user", "content": "What is the weather in Paris and what time is it in Tokyo? "
                                                    "Use both tools."}], tools=[GET_WEATHER, GET_TIME],
              tool_choice="auto"),
         expect=Expectations(min_tool_calls=2), steps=(TOOL_RESULT,)),
    Case("flow.required_then_result", "Conversations", "tool_choice required, then the result: the answer is text",
         OPENAI_FLOW, "chat/completions",
         chat(messages=WEATHER_QUESTION, tools=[GET_WEATHER], tool_choice="required"), steps=(TOOL_RESULT,)),
    Case("flow.chat_continued", "Conversations", "A multi-turn chat that continues the model's own answer",
         OPENAI_CHAT, "chat/completions", chat(messages=[SYSTEM, {"role": "user", "content": "Tell me a fact about "
                                                                                              "the sea."}]),
         steps=(Step("next question", continue_chat("And one about the sky?")),)),
]

# Cases an endpoint family keeps in its own package (conformance/api/<family>/cases.py, a CASES list), after the
# ones above (whose order is the committed reports').
for _module in families.import_each("cases"):
    CASES += _module.CASES

FEATURES: list[str] = list(dict.fromkeys(case.feature for case in CASES))
_BY_ID = {case.id: case for case in CASES}
assert len(_BY_ID) == len(CASES), "case ids must be unique"


def case_by_id(case_id: str) -> Case:
    return _BY_ID[case_id]
