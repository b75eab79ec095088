"""The SSE reader: any framing a server may legally use parses back to the same events; garbage never raises."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from conformance.wire.sse import parse_events, parse_stream

payload = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)
event_data = st.lists(payload, min_size=1, max_size=3).map("\n".join)


def frame(events: list[str], newline: str, comments: bool) -> str:
    out = []
    for data in events:
        if comments:
            out.append(": keep-alive")
        out.extend(f"data: {line}" for line in data.split("\n"))
        out.append("")
    return newline.join(out) + newline


@given(st.lists(event_data, max_size=6), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_framing_round_trips(events: list[str], newline: str, comments: bool) -> None:
    parsed, truncated = parse_events(frame(events, newline, comments))
    assert [e.data for e in parsed] == events
    assert not truncated


# ("error" is left out of the keys: a data line holding an error object is the server reporting a failure, kept as
# ParsedStream.error, not a chunk.)
@given(st.lists(st.dictionaries(st.text(max_size=5).filter(lambda k: k != "error"), st.integers(), max_size=3),
                max_size=5), st.data())
def test_chunks_survive_arbitrary_chunk_boundaries(chunks: list[dict[str, int]], data: st.DataObject) -> None:
    text = frame([json.dumps(c) for c in chunks] + ["[DONE]"], "\n", False)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=5)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    parsed = parse_stream("".join(pieces))
    assert parsed.chunks == chunks and parsed.done and not parsed.problems


@given(st.text(max_size=300))
def test_any_text_is_classified_never_raised(text: str) -> None:
    parsed = parse_stream(text)
    assert isinstance(parsed.chunks, list) and isinstance(parsed.problems, list)


def test_cut_stream_and_bad_json_are_reported() -> None:
    parsed = parse_stream('data: {"a": 1}\n\ndata: {"b": \n\ndata: {"c"')
    assert parsed.chunks == [{"a": 1}]
    assert [n for n, _ in parsed.problems] == [1, 2]
    assert parsed.truncated and not parsed.done


def test_events_after_done_are_counted_not_parsed() -> None:
    parsed = parse_stream("data: [DONE]\n\ndata: {}\n\n")
    assert parsed.done and parsed.events_after_done == 1 and parsed.chunks == []


@given(st.text(max_size=300))
def test_malformed_stream_gives_classified_findings_not_exceptions(text: str) -> None:
    from conformance.checks import CheckContext, run_checks

    parsed = parse_stream(text)
    findings = run_checks(CheckContext("stream", chunks=parsed.chunks, done=parsed.done,
                                       truncated=parsed.truncated, stream_problems=parsed.problems))
    checks = {f.check for f in findings}
    assert parsed.done or "stream.done" in checks
    assert not parsed.problems or "stream.events.json" in checks


def test_a_leading_bom_is_dropped_as_the_whatwg_parser_drops_it() -> None:
    from conformance.wire.sse import parse_stream

    parsed = parse_stream('\ufeffdata: {"a": 1}\r\rdata: [DONE]\r\r')  # a BOM, then CR line ends
    assert parsed.chunks == [{"a": 1}] and parsed.done and not parsed.stray_lines


def test_each_decoded_chunk_keeps_its_event_name() -> None:
    """Named events (as the Responses API sends them) keep their names beside their data; unnamed ones say None."""
    text = ('event: response.created\ndata: {"type": "response.created"}\n\n'
            'data: {"type": "plain"}\n\n'
            'event: response.completed\ndata: {"type": "response.completed"}\n\n')
    parsed = parse_stream(text)
    assert parsed.event_names == ["response.created", None, "response.completed"]
    assert [c["type"] for c in parsed.chunks] == ["response.created", "plain", "response.completed"]
