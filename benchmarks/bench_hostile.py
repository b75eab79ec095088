"""Peak memory and time of one case against hostile servers, and the cost of assembling large streams.

Run on demand: `python benchmarks/bench_hostile.py [SURFACES [CLASS-PREFIX]]` (every class on all four surfaces by
default; `python benchmarks/bench_hostile.py rest,curl Responses` runs the Responses API's classes
alone).
Targets: peak resident memory of a run below 300 MB against every hostile class (an endless fast stream, a gzip
bomb of 2 MB that inflates to 2 GB, answers past the judging budget in every spelling and size) and a legal 60 MB
stream (refused as past the 20 MB judging budget), the largest answers judged (19 MB) included,
each hostile one ending as ERROR with its one-line reason; assembling a stream grows linearly with its
size. Servers are SYNTHETIC, on loopback, bounded in time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.standin import hostile as h  # noqa: E402

KEY = "bench-key-not-secret"
NODE_DIR = __import__("os").environ.get("CONFORMANCE_NODE_DIR") or str(
    Path.home() / ".cache" / "openai-conformance" / "node-openai-6.30.1")
PROFILE = str(REPO / "tests/standin/standin.toml")


def _measured_run(base_url: str, case: str, surface: str, *extra: str) -> tuple[float, float, str, str]:
    """(peak RSS in MB, seconds, the verdict, its reason) of `conformance run -k case --surfaces S` against
    ``base_url``, under /usr/bin/time -v."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "conformance.cli", "run", "--target",
                               PROFILE, "--base-url", base_url, "--record-mode", "once", "--surfaces", surface,
                               "--cassette-dir", f"{tmp}/c", "--report-dir", f"{tmp}/r", "-k", case, *extra],
                              capture_output=True, text=True, cwd=REPO,
                              env={"PATH": "/usr/bin:/bin", "CONFORMANCE_STANDIN_KEY": KEY, "HOME": tmp,
                                   **({"CONFORMANCE_NODE_DIR": NODE_DIR} if NODE_DIR else {})})
        elapsed = time.perf_counter() - started
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
        try:
            results = json.loads(Path(f"{tmp}/r/report.json").read_text())["results"]
            result = next(r for r in results if r["case"] == case)  # -k is a substring: it may select more
        except (OSError, ValueError, StopIteration):
            return peak, elapsed, "none", done.stderr.strip().splitlines()[-1][:160] if done.stderr else ""
    findings = len(result.get("findings", []))
    return peak, elapsed, result["verdict"], f"{result['reason']} ({findings} finding(s))"


def peak_run(behaviour: h.Behaviour, case: str, surface: str = "rest") -> tuple[float, float, str, str]:
    """The run of one case against the SYNTHETIC hostile server doing ``behaviour``."""
    with h.hostile(KEY) as server:
        server.on(h.for_case(case), behaviour)
        return _measured_run(server.base_url, case, surface)


def standin_peak_run(mutation: object, case: str, surface: str, *extra: str) -> tuple[float, float, str, str]:
    """As peak_run, against the SYNTHETIC stand-in (tests/standin/server.py, its Batch API included) changed by
    ``mutation``: the classes that need a whole lifecycle or a conversation."""
    from tests.standin.server import running

    with running(KEY) as server:
        server.mutations.append(mutation)  # type: ignore[arg-type]
        return _measured_run(server.base_url, case, surface, "--catalogue", "full", *extra)


def million_line_output(path: str, request: dict, reply: object) -> object:
    """A batch output file of 1,000,000 empty objects, one a line (3 MB)."""
    from tests.standin.server import Reply

    if path.endswith("/content"):
        return Reply(200, raw=b"{}\n" * 1_000_000, headers={"content-type": "application/octet-stream"})
    return reply


def twenty_thousand_fields(path: str, request: dict, reply: object) -> object:
    """A conversation whose answer carries 20,000 fields of the server's own, and whose next turn is refused unless
    the one named x_13579 comes back (the narrowing must find it and name no other)."""
    from tests.standin.server import Reply

    messages = request.get("messages") or []
    if len(messages) > 2:  # the next turn
        echoed = next((m for m in messages if m.get("role") == "assistant"), {})
        if "x_13579" not in echoed:
            return Reply(400, {"error": {"message": "missing x_13579", "type": "invalid_request_error",
                                         "param": None, "code": None}})
        return reply
    body = getattr(reply, "body", None)
    if isinstance(body, dict) and body.get("choices"):
        body["choices"][0]["message"].update({f"x_{n}": 0 for n in range(20_000)})
    return reply


def assembly_seconds(megabytes: int) -> float:
    from conformance.checks import CheckContext, run_checks
    from conformance.wire.sse import parse_stream

    piece = "x" * 100
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
             "system_fingerprint": None, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None,
                                                      "finish_reason": None}]}
    line = f"data: {json.dumps(chunk)}\n\n"
    text = line * (megabytes * 1_000_000 // len(line)) + "data: [DONE]\n\n"
    started = time.perf_counter()
    parsed = parse_stream(text)
    run_checks(CheckContext("stream", chunks=parsed.chunks, done=parsed.done))
    return time.perf_counter() - started


def oversized_cassette_run(gigabytes: float) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, the last line of stderr) of a replay that meets a cassette of ``gigabytes`` GB."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c" / "rest"
        folder.mkdir(parents=True)
        with open(folder / "chat.system_user.yaml", "wb") as handle:
            handle.truncate(int(gigabytes * 1e9))  # a sparse file: no disk is spent on it
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "conformance.cli", "run", "--target",
                               PROFILE, "--surfaces", "rest", "--cassette-dir", f"{tmp}/c", "--report-dir",
                               f"{tmp}/r", "-k", "chat.system_user"], capture_output=True, text=True, cwd=REPO,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp})
        elapsed = time.perf_counter() - started
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
        said = next((line for line in done.stderr.splitlines() if line.startswith("conformance:")), "")
    return peak, elapsed, said


CLASSES = (("endless fast stream", h.endless_stream, "stream.basic"),
           ("gzip bomb 2 GB", h.gzip_bomb(2000), "chat.system_user"),
           ("gzip, gzip bomb 6 GB", h.double_gzip_bomb(6000), "chat.system_user"),
           ("150,000 choices (17 MB)", h.many_choices(150_000), "chat.system_user"),
           ("150,000 choices, keys escaped (14 MB)", h.many_escaped_choices(150_000), "chat.system_user"),
           ("180,000 tool calls (18 MB)", h.many_tool_calls(180_000), "tools.auto"),
           ("1,900,000 tiny stream events (19 MB)", h.many_tiny_events(1_900_000), "stream.basic"),
           ("one event of 300,000 parts (9 MB)", h.one_event_of_many_parts(300_000), "stream.basic"),
           ("500,000 choices (58 MB: the size budget)", h.many_choices(500_000), "chat.system_user"),
           ("4,500,000 embedding floats (18 MB)", h.many_floats(4_500_000), "embeddings.single"),
           ("a legal 60 MB stream", h.legal_large_stream(60), "stream.basic"),
           ("a 60 MB stream of 12,000 deltas of 5 KB", h.large_deltas(12_000), "stream.basic"),
           ("a 19 MB stream of 3,700 deltas of 5 KB, judged", h.large_deltas(3_700), "stream.basic"),
           ("a 19 MB stream of 18,000 deltas of 1 KB, judged", h.legal_large_stream(19), "stream.basic"),
           ("Responses: endless named stream", h.endless_named_stream, "responses.stream"),
           ("Responses: 130,000 output items (18 MB)", h.many_output_items(130_000), "responses.text"),
           ("Responses: 300,000 named events (16 MB)", h.many_named_events(300_000), "responses.stream"),
           ("Responses: 120,000 named events, judged", h.many_named_events(120_000), "responses.stream"))
SURFACES = ("python-sdk", "rest", "node-sdk", "curl")


def main() -> None:
    surfaces = sys.argv[1].split(",") if len(sys.argv) > 1 else SURFACES
    only = sys.argv[2] if len(sys.argv) > 2 else ""  # a class name's prefix: run those classes alone
    classes = [c for c in CLASSES if c[0].startswith(only)]
    print("| class | surface | peak RSS (MB) | seconds | verdict | goal < 300 MB |")
    print("|---|---|---|---|---|---|")
    for name, behaviour, case in classes:
        for surface in surfaces:
            peak, elapsed, verdict, reason = peak_run(behaviour, case, surface)
            print(f"| {name} | {surface} | {peak:.0f} | {elapsed:.1f} | {verdict}: {reason[:90]} | "
                  f"{'met' if peak < 300 else 'NOT met'} |", flush=True)
    if only:
        return
    for name, mutation, case, extra in (
            ("a batch output file of 1,000,000 lines", million_line_output, "batch.chat_completions",
             ("--batch-wait", "20")),
            ("a next turn needing 1 of 20,000 fields", twenty_thousand_fields, "flow.chat_continued", ())):
        for surface in surfaces:
            peak, elapsed, verdict, reason = standin_peak_run(mutation, case, surface, *extra)
            print(f"| {name} | {surface} | {peak:.0f} | {elapsed:.1f} | {verdict}: {reason[:90]} | "
                  f"{'met' if peak < 300 else 'NOT met'} |", flush=True)
    peak, elapsed, said = oversized_cassette_run(2.0)
    print(f"a 2 GB cassette: peak {peak:.0f} MB in {elapsed:.1f} s ({'met' if peak < 300 else 'NOT met'}: "
          f"< 300 MB); {said}")
    sizes = (5, 10, 20)
    times = [assembly_seconds(size) for size in sizes]
    per_mb = [t / s for t, s in zip(times, sizes, strict=True)]
    print("stream assembly (parse + every stream check): " + ", ".join(
        f"{s} MB {t:.2f} s" for s, t in zip(sizes, times, strict=True)) +
          f"; seconds per MB {min(per_mb):.3f}..{max(per_mb):.3f} ("
          f"{'linear' if max(per_mb) < 1.5 * min(per_mb) else 'NOT linear'})")


if __name__ == "__main__":
    main()
