"""How a replay matches a request to a recorded one (cassettes/filters.body_matches): JSON bodies as values,
others as bytes, multipart bodies whatever their boundary, and a mismatch said in one cheap line."""

from __future__ import annotations

import json

import pytest
from vcr.request import Request

from conformance.cassettes.filters import body_matches

JSON = {"content-type": "application/json"}


def _request(body: bytes | str, headers: dict[str, str] | None = None) -> Request:
    return Request("POST", "http://127.0.0.1:9/v1/chat/completions", body, headers or JSON)


def test_json_bodies_match_as_values_whatever_their_spelling() -> None:
    body_matches(_request(b'{"a": 1, "b": [1, 2]}'), _request(b'{"b":[1,2],"a":1}'))


@pytest.mark.parametrize(("recorded", "sent", "headers"), [
    (b'{"a": 1}', b'{"a": 2}', JSON),
    (b'{"a": 1}', b'{"a":1}', {"content-type": "text/plain"}),  # not JSON by its header: bytes
    (b"{not json", b"{not json ", JSON),
])
def test_other_bodies_do_not_match(recorded: bytes, sent: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(AssertionError, match="the bodies differ"):
        body_matches(_request(recorded, headers), _request(sent, headers))


def test_multipart_bodies_match_whatever_their_boundary() -> None:
    def multipart(boundary: str) -> Request:
        text = f"--{boundary}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}--\r\n"
        return _request(text.encode(), {"content-type": f"multipart/form-data; boundary={boundary}"})

    body_matches(multipart("aaa111"), multipart("bbb222"))


def test_a_mismatch_of_two_large_bodies_is_said_without_a_diff() -> None:
    """vcrpy's own message is a difflib diff of the two bodies, built for every recorded request compared: for two
    300 KB answers echoed in a conversation, seconds each. The message here is one line, sizes only."""
    recorded = json.dumps({"messages": [{f"x_{n}": n for n in range(20_000)}]}, indent=1).encode()
    sent = recorded.replace(b'"x_19999": 19999', b'"x_19999": 0')
    with pytest.raises(AssertionError) as raised:
        body_matches(_request(recorded), _request(sent))
    assert str(raised.value) == f"the bodies differ ({len(sent)} bytes in this request, {len(recorded)} recorded)"
