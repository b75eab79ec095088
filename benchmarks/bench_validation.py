"""Validation throughput: chunks/s through the schema and every stream check, on one core.

Run on demand: `python benchmarks/bench_validation.py`. Target: >= 20,000 chunk validations/s.
Uses genuine OpenAI stream chunks from ../shared when present, else synthetic chunks.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

from conformance import schemas
from conformance.checks import CheckContext, run_checks


def load_streams() -> list[list[dict]]:
    path = Path(__file__).resolve().parents[2] / "shared/reference/openai-recordings/chatcompletions.results.json.gz"
    if path.exists():
        with gzip.open(path, "rt") as handle:
            data = json.load(handle)
        return [e["response"]["body"] for e in data.values()
                if e.get("response") and e["response"]["status"] == 200 and isinstance(e["response"]["body"], list)]
    print("(../shared absent: synthetic chunks)", file=sys.stderr)
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "system_fingerprint": None,
             "choices": [{"index": 0, "delta": {"content": "x"}, "logprobs": None, "finish_reason": None}]}
    return [[dict(chunk) for _ in range(50)] for _ in range(100)]


def main() -> None:
    streams = load_streams()
    total = sum(len(s) for s in streams)
    started = time.perf_counter()
    for stream in streams:
        for number, chunk in enumerate(stream):
            schemas.validate("chat.completion.chunk", chunk, event=number)
    schema_rate = total / (time.perf_counter() - started)
    started = time.perf_counter()
    for stream in streams:
        run_checks(CheckContext("stream", chunks=stream, done=True))
    full_rate = total / (time.perf_counter() - started)
    print(f"{len(streams)} streams, {total} chunks")
    print(f"schema validation:          {schema_rate:,.0f} chunks/s")
    print(f"schema + all stream checks: {full_rate:,.0f} chunks/s (target >= 20,000)")


if __name__ == "__main__":
    main()
