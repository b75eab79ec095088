"""Does the regression gate flap on a sampled model, and does it catch a real regression? (Run on demand.)

Against the llama.cpp reference server in its sampled variant (loopback only; needs `scripts/reference-server
install`), for both the rate-judging gate (every case sent K times) and the single-sample gate (K = 1):

1. record a baseline;
2. run RUNS fresh live runs and gate each against that baseline: every regression call is spurious, since the
   server did not change;
3. run RUNS more through a loopback proxy that drops the tool calls from half of the chat answers (a seeded coin
   per answer), and gate each: a run with a regression call has detected the injected regression.

    .venv/bin/python experiments/gate_flapping.py [--runs 10] [--repeat 5] [--surfaces python-sdk,rest]

Prints one table and writes the figures (with every regression call) to --out as JSON. Bounded: 4 x RUNS + 2
catalogue runs of the core tier, each request with the suite's own deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def drop_tool_calls(body: bytes, stream: bool) -> bytes:
    """The answer without its tool calls, as a server that loses them would send it."""
    if not stream:
        data = json.loads(body)
        for choice in data.get("choices", []):
            message = choice.get("message") or {}
            if message.pop("tool_calls", None) is not None:
                message.pop("function_call", None)
                message["content"] = message.get("content") or "I cannot look that up."
                choice["finish_reason"] = "stop"
        return json.dumps(data).encode()
    lines = []
    for line in body.decode().split("\n"):
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices", []):
                delta = choice.get("delta") or {}
                delta.pop("tool_calls", None)
                delta.pop("function_call", None)
                if choice.get("finish_reason") == "tool_calls":
                    choice["finish_reason"] = "stop"
            line = "data: " + json.dumps(chunk)
        lines.append(line)
    return "\n".join(lines).encode()


class DroppingProxy:
    """A loopback proxy to the reference server that drops the tool calls of half of the chat answers."""

    def __init__(self, upstream: str, seed: int, rate: float = 0.5) -> None:
        self.upstream, self.coin, self.rate = upstream.rstrip("/") + "/", random.Random(seed), rate
        self.dropped = self.answers = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._forward(b"")

            def do_POST(self) -> None:
                self._forward(self.rfile.read(int(self.headers.get("content-length") or 0)))

            def _forward(self, body: bytes) -> None:
                path = self.path.split("/v1/", 1)[-1]
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                with httpx.Client(timeout=60) as client:
                    answer = client.request(self.command, proxy.upstream + path, content=body, headers=headers)
                payload = answer.content
                if path.startswith("chat/completions") and answer.status_code == 200:
                    proxy.answers += 1
                    if proxy.coin.random() < proxy.rate:
                        proxy.dropped += 1
                        payload = drop_tool_calls(payload, "event-stream" in answer.headers.get("content-type", ""))
                self.send_response(answer.status_code)
                self.send_header("content-type", answer.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/"

    def __enter__(self) -> DroppingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def record(base_url: str, folder: Path, repeat: int, surfaces: str) -> Path:
    args = [sys.executable, "-m", "conformance.cli", "run", "--target", "llamacpp-sampled", "--base-url", base_url,
            "--record-mode", "once", "--repeat", str(repeat), "--catalogue", "core", "--surfaces", surfaces,
            "--cassette-dir", str(folder / "cassettes"), "--report-dir", str(folder / "report")]
    done = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=1800)
    if done.returncode > 1:
        raise SystemExit(f"a catalogue run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return folder / "report" / "report.json"


def regressions(baseline: Path, current: Path) -> list[dict[str, Any]]:
    from conformance.report.diff import REGRESSION, diff_reports, load_report

    return [c.to_dict() for c in diff_reports(load_report(baseline), load_report(current)) if c.kind == REGRESSION]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="K of the rate-judging gate [default: 5]")
    parser.add_argument("--surfaces", default="python-sdk,rest")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "gate_flapping.json")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    os.environ["LLAMACPP_API_KEY"] = "experiment-" + secrets.token_hex(8)
    work = Path(tempfile.mkdtemp(prefix="gate-flapping-"))
    server_dir = work / "server"
    started = time.monotonic()
    url = subprocess.run([sys.executable, "-m", "conformance.refserver", "start", "--sampled", "--dir",
                          str(server_dir)], capture_output=True, text=True, cwd=REPO, check=True).stdout.strip()
    figures: dict[str, Any] = {"runs": args.runs, "surfaces": args.surfaces, "gates": {}}
    try:
        for label, repeat in ((f"rates (K={args.repeat})", args.repeat), ("single sample (K=1)", 1)):
            gate = work / f"k{repeat}"
            baseline = record(url, gate / "baseline", repeat, args.surfaces)
            spurious, detected, calls = 0, 0, []
            for run in range(args.runs):
                found = regressions(baseline, record(url, gate / f"clean-{run}", repeat, args.surfaces))
                spurious += bool(found)
                calls.append({"run": run, "injected": False, "regressions": found})
                print(f"{label} clean run {run + 1}: {len(found)} regression call(s)", file=sys.stderr)
            for run in range(args.runs):
                with DroppingProxy(url, seed=run) as proxy:
                    found = regressions(baseline, record(proxy.base_url, gate / f"dropped-{run}", repeat,
                                                         args.surfaces))
                detected += bool(found)
                calls.append({"run": run, "injected": True, "dropped": f"{proxy.dropped}/{proxy.answers}",
                              "regressions": found})
                print(f"{label} injected run {run + 1}: {len(found)} regression call(s), tool calls dropped from "
                      f"{proxy.dropped}/{proxy.answers} answers", file=sys.stderr)
            figures["gates"][label] = {"spurious": spurious, "detected": detected, "calls": calls}
    finally:
        subprocess.run([sys.executable, "-m", "conformance.refserver", "stop", "--dir", str(server_dir)], cwd=REPO)
    figures["minutes"] = round((time.monotonic() - started) / 60, 1)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"\n{'gate':<24} {'spurious regressions':>22} {'injected regressions detected':>31}")
    for label, result in figures["gates"].items():
        print(f"{label:<24} {result['spurious']:>17} / {args.runs:<3} {result['detected']:>25} / {args.runs:<3}")
    print(f"\n{figures['minutes']} min; every call in {args.out}")


if __name__ == "__main__":
    main()
