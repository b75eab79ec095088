"""The Responses API (OpenAI API reference, "Responses"): typed output items, named stream events, server-side
state through ``previous_response_id``.

Its answers are a ``response`` object, or (``stream: true``) a stream of named events, each validated against its
own type's schema; a stored response can be read back, listed for its input items, cancelled (background) and
deleted. What goes with the family lives beside this declaration: the stream's assembly (``stream.py``), the checks
(``checks.py``, ``stream_checks.py``), how a conversation continues (``conversation.py``) and the cases
(``cases.py``).
"""

from conformance.api.operation import Answer, Operation

SECTION = "OpenAI API reference, Responses"

OPERATIONS = (
    Operation("responses.create", "POST", "responses", answer="response", streamed="responses.stream",
              events="responses.event", section=f"{SECTION}: create a model response"),
    Operation("responses.retrieve", "GET", "responses/{response_id}", answer="response", body="none",
              section=f"{SECTION}: get a model response"),
    Operation("responses.delete", "DELETE", "responses/{response_id}", answer="response.deleted", body="none",
              section=f"{SECTION}: delete a model response"),
    Operation("responses.input_items", "GET", "responses/{response_id}/input_items", answer="response.input_items",
              body="none", section=f"{SECTION}: list input items"),
    Operation("responses.cancel", "POST", "responses/{response_id}/cancel", answer="response", body="none",
              section=f"{SECTION}: cancel a response (background mode only)"),
)

ANSWERS = (
    Answer("response", "Response", "a response", object="response"),
    Answer("responses.event", "ResponseStreamEvent", "every stream event, against its own type"),
    Answer("response.deleted", "DeletedResponse", "a deletion confirmation"),
    Answer("response.input_items", "ResponseItemList", "a list of input items"),
)
