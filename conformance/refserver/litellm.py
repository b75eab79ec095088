"""The LiteLLM proxy in front of the llama.cpp reference server: a second, independent OpenAI-compatible
implementation, configured as its users configure it (a config.yaml with a master key and model aliases).

    python -m conformance.refserver.litellm start --upstream URL [--dir D] [--bin PATH]   prints the base URL
    python -m conformance.refserver.litellm stop [--dir D]

The proxy runs from its own virtual environment (``scripts/litellm-proxy install``: ``litellm[proxy]`` pinned,
kept apart from the suite's so that neither pins the other's dependencies). Its master key is whatever
LITELLM_MASTER_KEY holds; the upstream key is LLAMACPP_API_KEY, read by the proxy from its environment (the
config names the variable, never the value). LiteLLM is told to use its bundled model-cost map and no telemetry:
nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

from conformance.refserver.__main__ import free_port, launch, stop

CHAT_ALIAS, EMBED_ALIAS = "local-chat", "local-embed"
# The same chat model as a custom_openai/ deployment: LiteLLM sends an openai/ deployment's /v1/responses to the
# upstream untranslated (llama.cpp's server has none), and bridges a custom_openai/ one through /v1/chat/completions,
# as its documentation describes for OpenAI-compatible servers without a Responses API
# (docs.litellm.ai/docs/response_api_native_passthrough). The litellm target's Responses cases ask for this alias.
RESPONSES_ALIAS = "local-chat-responses"
DEFAULT_BIN = Path(".venv-litellm") / "bin" / "litellm"


def write_config(folder: Path, upstream: str) -> Path:
    """Three aliases over the upstream's models, the master key and the upstream key by variable name only."""
    base = upstream.rstrip("/")
    lines = ["model_list:"]
    for alias, model in ((CHAT_ALIAS, "openai/tiny-chat"), (EMBED_ALIAS, "openai/tiny-embed"),
                         (RESPONSES_ALIAS, "custom_openai/tiny-chat")):
        lines += [f"  - model_name: {alias}", "    litellm_params:", f"      model: {model}",
                  f"      api_base: {base}", "      api_key: os.environ/LLAMACPP_API_KEY"]
    lines += ["general_settings:", "  master_key: os.environ/LITELLM_MASTER_KEY",
              "litellm_settings:", "  telemetry: false", ""]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines))
    return path


def start(folder: Path, upstream: str, binary: Path, port: int, timeout_s: float = 120.0) -> str:
    master = os.environ.get("LITELLM_MASTER_KEY", "")
    if not master.startswith("sk-") or not os.environ.get("LLAMACPP_API_KEY"):
        raise SystemExit("litellm: set LITELLM_MASTER_KEY (LiteLLM wants it to start with 'sk-') and "
                         "LLAMACPP_API_KEY (the upstream's key)")
    if not binary.exists():
        raise SystemExit(f"litellm: {binary} not found: run scripts/litellm-proxy install")
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, upstream)
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "LITELLM_LOG": "ERROR"}
    launch(folder, [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)], "proxy.log",
           probe=lambda: httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=1),
           label="litellm: the proxy", timeout_s=timeout_s, env=env, cwd=folder)
    return f"http://127.0.0.1:{port}/v1/"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m conformance.refserver.litellm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=Path(".litellm"), help="working folder [default: .litellm]")
    parser.add_argument("--upstream", help="the llama.cpp reference server's base URL (start)")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BIN,
                        help=f"the litellm executable [default: {DEFAULT_BIN}]")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 [default: a free one]")
    args = parser.parse_args()
    if args.action == "stop":
        stop(args.dir)
        return
    if not args.upstream:
        parser.error("start needs --upstream URL")
    started = time.monotonic()
    print(start(args.dir, args.upstream, args.bin.resolve(), args.port or free_port()))
    print(f"litellm: answering after {time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
