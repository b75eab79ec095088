"""Start and stop the llama.cpp reference server on loopback: ``python -m conformance.refserver start|stop|model``.

``start`` generates the tiny model, writes the server's config (a chat alias with ``chatml-function-calling``
and an embedding alias over the same file), launches ``llama_cpp.server`` on a free 127.0.0.1 port with the
key from LLAMACPP_API_KEY, waits until it answers, and prints the base URL. ``stop`` ends it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from conformance.refserver.tiny_model import N_CTX, write_model

CHAT_ALIAS, EMBED_ALIAS = "tiny-chat", "tiny-embed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, port: int, api_key: str, *, sampled: bool = False) -> Path:
    model = str(write_model(folder / ("tiny-sampled.gguf" if sampled else "tiny.gguf"), sampled=sampled))
    # Deterministic: one fixed seed. Sampled: none here; conformance.refserver.sampled_server seeds each model load
    # from the operating system, and llama-cpp-python derives a new seed for every request from there.
    seed = {} if sampled else {"seed": 7}
    config = {
        "host": "127.0.0.1",
        "port": port,
        "api_key": api_key,
        "models": [
            {"model": model, "model_alias": CHAT_ALIAS, "chat_format": "chatml-function-calling", "n_ctx": N_CTX,
             **seed, "verbose": False},
            {"model": model, "model_alias": EMBED_ALIAS, "embedding": True, "n_ctx": N_CTX, "verbose": False},
        ],
    }
    path = folder / "server.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def start(folder: Path, port: int, timeout_s: float = 60.0, *, sampled: bool = False) -> str:
    api_key = os.environ.get("LLAMACPP_API_KEY", "")
    if not api_key:
        raise SystemExit("refserver: set LLAMACPP_API_KEY: the server requires it, and so does record mode")
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, port, api_key, sampled=sampled)
    server = "conformance.refserver.sampled_server" if sampled else "llama_cpp.server"
    base_url = f"http://127.0.0.1:{port}/v1/"
    launch(folder, [sys.executable, "-m", server, "--config_file", str(config)], "server.log",
           probe=lambda: httpx.get(base_url + "models", headers={"Authorization": f"Bearer {api_key}"}, timeout=1),
           label="refserver: the server", timeout_s=timeout_s)
    (folder / "base_url").write_text(base_url)
    return base_url


def launch(folder: Path, command: list[str], log_name: str, *, probe: Callable[[], httpx.Response], label: str,
           timeout_s: float, **popen: Any) -> None:
    """Start a loopback server in its own session (``stop`` ends the whole group) and wait until ``probe``
    succeeds; a server that exits or stays silent is one line and exit, with its log named."""
    wait_until_answering(folder, spawn(folder, command, log_name, **popen), log_name, probe=probe, label=label,
                         timeout_s=timeout_s)


def spawn(folder: Path, command: list[str], log_name: str, **popen: Any) -> subprocess.Popen[bytes]:
    """Start a server in its own session, its output in ``folder/log_name`` and its pid in ``folder/server.pid``."""
    log = open(folder / log_name, "w")  # the child keeps it open
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen)
    (folder / "server.pid").write_text(str(process.pid))
    return process


def wait_until_answering(folder: Path, process: subprocess.Popen[bytes], log_name: str, *,
                         probe: Callable[[], httpx.Response], label: str, timeout_s: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise SystemExit(f"{label} exited with {process.returncode}; see {folder / log_name}")
        try:
            if probe().is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(folder)
    raise SystemExit(f"{label} gave no answer within {timeout_s:.0f}s; see {folder / log_name}")


def stop(folder: Path) -> None:
    pid_file = folder / "server.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.refserver", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "model"])
    parser.add_argument("--dir", type=Path, default=Path(".refserver"), help="working folder [default: .refserver]")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 [default: a free one]")
    parser.add_argument("--sampled", action="store_true",
                        help="the sampled variant (target llamacpp-sampled): a new seed per request, and a model "
                             "that answers or stays silent by chance")
    args = parser.parse_args()
    if args.action == "model":
        print(write_model(args.dir / "tiny.gguf", sampled=args.sampled))
    elif args.action == "start":
        started = time.monotonic()
        url = start(args.dir, args.port or free_port(), sampled=args.sampled)
        print(url)
        print(f"refserver: answering after {time.monotonic() - started:.1f}s", file=sys.stderr)
    else:
        stop(args.dir)


if __name__ == "__main__":
    main()
