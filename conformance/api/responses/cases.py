"""The Responses API's cases: each documented request feature, its stream, its conversations and its stored
responses, on every surface.

Every test of the Open Responses compliance suite (openresponses.org, ``bin/compliance-test.ts``) has its case here
(``OPEN_RESPONSES`` maps each to the case, or says why there is none); this suite judges each answer beyond the
shape and status that suite checks (event order and ids, deltas against the final text, the request's obligations).
"""

from __future__ import annotations

from typing import Any

from conformance.api import operation
from conformance.api.chat.conversation import Step, Turn
from conformance.api.operation import plain_id, shown_id
from conformance.api.responses.conversation import (
    continue_by_id,
    stored_id,
    tool_results_by_id,
    tool_results_replayed,
)
from conformance.catalogue.media import tiny_png_data_url
from conformance.catalogue.model import CHAT_MODEL, UNKNOWN_MODEL, Case
from conformance.model.errors import CannotFollow
from conformance.model.expectations import Expectations

REFERENCE = "https://platform.openai.com/docs/api-reference/responses"
CREATE = f"{REFERENCE}/create"
STREAMING = "https://platform.openai.com/docs/api-reference/responses-streaming"
TOOLS = "https://platform.openai.com/docs/guides/function-calling?api-mode=responses"
STATE = "https://platform.openai.com/docs/guides/conversation-state?api-mode=responses"
STRUCTURED = "https://platform.openai.com/docs/guides/structured-outputs?api-mode=responses"
ERRORS = "https://platform.openai.com/docs/guides/error-codes"
PATH = "responses"

# The function-calling guide's example function, in the Responses API's flat tool form.
WEATHER: dict[str, Any] = {
    "type": "function", "name": "get_weather", "description": "Get the weather in a given location",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. Chicago, IL"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]},
}
TIME: dict[str, Any] = {
    "type": "function", "name": "get_time", "description": "Get the current local time in a given location",
    "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "The city"}},
                   "required": ["location"]},
}
WEATHER_QUESTION = "What's the weather like in Chicago today?"
BOTH_QUESTION = "What is the weather in Paris and what time is it in Tokyo? Use both tools."
CITY_FORMAT = {"type": "json_schema", "name": "city", "strict": True, "schema": {
    "type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"], "additionalProperties": False}}
SHORT = "Say hello in one short sentence."


def respond(**body: Any) -> dict[str, Any]:
    return {"model": CHAT_MODEL, **body}


def case(case_id: str, feature: str, title: str, section: str, body: dict[str, Any], **more: Any) -> Case:
    return Case(f"responses.{case_id}", f"Responses: {feature}", title, section, PATH, body, **more)


def _stored(name: str, operation_id: str) -> Step:
    """A step that reads back (or deletes) the conversation's first, stored response."""
    declared = operation(operation_id)

    def path(turns: list[Turn]) -> str:
        response_id = stored_id(turns)
        if not plain_id(response_id):
            raise CannotFollow(f"the response's id is not one to read it back by ({shown_id(response_id)})",
                               step=1, pointer="/id", seen=response_id)
        return declared.fill(response_id=response_id)

    return Step(name, lambda turns: {}, path=path, method=declared.method)


TOOL_RESULT_BY_ID = Step("tool result", tool_results_by_id)
TOOL_RESULT_REPLAYED = Step("tool result", tool_results_replayed)

CASES: list[Case] = [
    # --- Text in, text out ------------------------------------------------------------------------------------------
    case("text", "text", "A string input answered with a message", CREATE, respond(input=SHORT)),
    case("stream", "streaming", "The same answer streamed: typed events, numbered, one terminal event", STREAMING,
         respond(input=SHORT, stream=True)),
    case("instructions", "text", "instructions (the system prompt) stated back in the response", CREATE,
         respond(instructions="You are a helpful assistant. Answer in one short sentence.",
                 input="What colour is the sky?")),
    case("input.items", "text", "input as message items: a developer message and a user message with a text part",
         CREATE, respond(input=[{"role": "developer", "content": "Answer in one short sentence."},
                                {"role": "user", "content": [{"type": "input_text",
                                                              "text": "What colour is the sky?"}]}]), tier="full"),
    case("input.multi_turn", "text", "A conversation passed as items (user, assistant, user)", STATE,
         respond(input=[{"role": "user", "content": "My name is Ada."},
                        {"role": "assistant", "content": "Nice to meet you, Ada."},
                        {"role": "user", "content": "What is my name? Answer in one short sentence."}]),
         tier="full"),
    case("input.image", "input", "An image part (input_image with a data URL)", CREATE,
         respond(input=[{"role": "user", "content": [
             {"type": "input_text", "text": "What colour is this image? Answer with one word."},
             {"type": "input_image", "image_url": tiny_png_data_url()}]}]), tier="full"),
    case("store_false", "text", "store: false (the response is not kept)", CREATE,
         respond(input=SHORT, store=False), tier="full"),
    case("max_output_tokens", "text", "max_output_tokens reached: an incomplete response that says why", CREATE,
         respond(input="Write a long essay about the history of computing.", max_output_tokens=16), tier="full"),
    case("reasoning", "text", "reasoning.effort accepted, reasoning kept out of the text", CREATE,
         respond(input=SHORT, reasoning={"effort": "low"}), tier="full"),
    case("reasoning.summary", "streaming", "reasoning.summary streamed: each summary's deltas add up to the text "
         "its .done events and the final reasoning item state", STREAMING,
         respond(input=SHORT, reasoning={"effort": "low", "summary": "auto"}, stream=True), tier="full"),
    # --- Function tools ---------------------------------------------------------------------------------------------
    case("tool_choice.auto", "tools", "A function tool under tool_choice auto", TOOLS,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="auto"), tier="full"),
    case("tool_choice.required", "tools", "tool_choice required: a function call", TOOLS,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required")),
    case("tool_choice.named", "tools", "tool_choice naming a function: that call", TOOLS,
         respond(input=BOTH_QUESTION, tools=[WEATHER, TIME], tool_choice={"type": "function", "name": "get_time"}),
         tier="full"),
    case("tool_choice.allowed", "tools", "tool_choice allowed_tools (mode required): a call to an allowed "
         "function only", TOOLS, respond(input=BOTH_QUESTION, tools=[WEATHER, TIME], tool_choice={
             "type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]}),
         tier="full"),
    case("tool_choice.none", "tools", "tool_choice none: no call", TOOLS,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="none"), tier="full"),
    case("function_call.stream", "tools", "A function call streamed: argument deltas, their .done and the final item",
         STREAMING, respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required", stream=True)),
    case("function_calls.parallel", "tools", "Two tools asked for in one turn", TOOLS,
         respond(input=BOTH_QUESTION, tools=[WEATHER, TIME], tool_choice="required"), tier="full"),
    case("function_calls.one", "tools", "parallel_tool_calls false: at most one call", TOOLS,
         respond(input=BOTH_QUESTION, tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False),
         tier="full"),
    # --- Structured output ------------------------------------------------------------------------------------------
    case("text.json_schema", "structured output", "text.format json_schema (strict): the text is that object",
         STRUCTURED, respond(input="Name one large city and its country.", text={"format": CITY_FORMAT})),
    case("text.json_schema.stream", "structured output", "The same structured output streamed", STRUCTURED,
         respond(input="Name one large city and its country.", text={"format": CITY_FORMAT}, stream=True),
         tier="full"),
    # --- Conversation state -----------------------------------------------------------------------------------------
    case("flow.previous_response_id", "conversation state", "A next turn through previous_response_id", STATE,
         respond(input="My name is Ada. Reply with OK."),
         steps=(Step("next question", continue_by_id("What is my name? Answer in one short sentence.")),)),
    case("flow.tool_round_trip", "conversation state", "A function call answered with function_call_output "
         "through previous_response_id", TOOLS,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required"), steps=(TOOL_RESULT_BY_ID,)),
    case("flow.tool_round_trip.stream", "conversation state", "The same round trip streamed: the client's final "
         "response continues it", TOOLS,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required", stream=True),
         steps=(TOOL_RESULT_BY_ID,), tier="full"),
    case("flow.items_replayed", "conversation state", "store: false, the output items replayed as input with the "
         "call's output (the client keeps the state)", STATE,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required", store=False),
         steps=(TOOL_RESULT_REPLAYED,), tier="full"),
    case("flow.reasoning_replayed", "conversation state", "store: false with reasoning and its encrypted content "
         "included: the reasoning item replayed with the call and its output", STATE,
         respond(input=WEATHER_QUESTION, tools=[WEATHER], tool_choice="required", store=False,
                 reasoning={"effort": "low"}, include=["reasoning.encrypted_content"]),
         steps=(TOOL_RESULT_REPLAYED,), tier="full"),
    case("include.logprobs", "text", "include message.output_text.logprobs: each text part carries its tokens' "
         "log probabilities", CREATE, respond(input=SHORT, include=["message.output_text.logprobs"], top_logprobs=2),
         tier="full"),
    case("background.cancel", "stored responses", "A background response, then cancelled", f"{REFERENCE}/cancel",
         respond(input="Write a long essay about the history of computing.", background=True, store=True),
         steps=(_stored("cancel", "responses.cancel"),), first_step="create", tier="full"),
    case("stored", "stored responses", "A stored response read back, its input items listed, then deleted",
         f"{REFERENCE}/get", respond(input=SHORT, store=True),
         steps=(_stored("retrieve", "responses.retrieve"), _stored("input items", "responses.input_items"),
                _stored("delete", "responses.delete")), first_step="create", tier="full"),
    # --- Errors ----------------------------------------------------------------------------------------------------
    case("errors.invalid_key", "errors", "A wrong API key is refused with 401", ERRORS, respond(input=SHORT),
         invalid_key=True, expect_error=(401,), expect=Expectations(error_code="invalid_api_key")),
    case("errors.no_such_model", "errors", "An unknown model is refused with 400 model_not_found (OpenAI's recorded "
         "answer on this endpoint)", ERRORS, {"model": UNKNOWN_MODEL, "input": SHORT}, expect_error=(400,),
         expect=Expectations(error_code="model_not_found"), tier="full"),
    case("errors.invalid_value", "errors", "temperature -1 is refused with 400 decimal_below_min_value", CREATE,
         respond(input=SHORT, temperature=-1), expect_error=(400,),
         expect=Expectations(error_code="decimal_below_min_value", error_param="temperature"), tier="full"),
    case("errors.unknown_previous", "errors", "An unknown previous_response_id is refused with 400 "
         "previous_response_not_found", STATE,
         respond(input=SHORT, previous_response_id="resp_conformance_no_such_response"), expect_error=(400,),
         expect=Expectations(error_code="previous_response_not_found"), tier="full"),
]

# The Open Responses compliance suite's tests (openresponses.org, bin/compliance-test.ts) and the case that covers
# each here, or why none does.
OPEN_RESPONSES: dict[str, str] = {
    "basic text response": "responses.text",
    "streaming response": "responses.stream (every event against its type's schema, and their order and ids)",
    "system prompt": "responses.instructions",
    "tool calling": "responses.tool_choice.required",
    "function call round trip (previous_response_id + function_call_output)": "responses.flow.tool_round_trip",
    "image input": "responses.input.image",
    "file input": "none: an input_file needs a PDF the suite would have to make or ship, and no reference server "
                  "reads files; a later case",
    "multi-turn items": "responses.input.multi_turn",
    "previous_response_id": "responses.flow.previous_response_id",
    "file search (optional)": "none: a hosted tool over OpenAI's vector stores, which no compatible server has",
    "web search (optional)": "none: a hosted tool OpenAI runs itself, not part of a compatible server's contract",
}
