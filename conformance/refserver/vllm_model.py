"""The llama.cpp reference model's weights as a Hugging Face Llama checkpoint, for vLLM (scripts/vllm-server).

The same deterministic weights as conformance/refserver/tiny_model.py (the model says "Sky blue" and stops; a
grammar-constrained tool call comes out short and valid), so that the cross-target matrix compares the servers,
not two models. What vLLM needs beside them: a byte-level tokenizer with the same ids (specials, then the 256
bytes), the two tool-call markup tokens of the hermes tool parser (``<tool_call>``, ``</tool_call>``: the parser
refuses to start without them in the vocabulary), and a ChatML template that renders tools, assistant tool calls
and tool results the way that parser reads them. Nothing is downloaded.

Run with the vLLM environment's Python (it needs numpy, safetensors and tokenizers):
``python -m conformance.refserver.vllm_model OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from conformance.refserver.tiny_model import BOS, IM_END, N_CTX, N_EMBD, SPECIALS, UNK, build_weights

TOOL_TOKENS = ["<tool_call>", "</tool_call>"]
# ChatML, with tools in the system turn and tool calls as hermes markup (what vLLM's `hermes` parser reads back).
CHAT_TEMPLATE = (
    "{% macro text(content) %}{% if content is string %}{{ content }}{% elif content %}"
    "{% for part in content %}{% if part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}"
    "{% endif %}{% endmacro %}"
    "{% if tools %}<|im_start|>system\n"
    "{% if messages and messages[0].role == 'system' %}{{ text(messages[0].content) }}\n\n{% endif %}"
    "You may call functions. Their signatures are within <tools></tools>:\n<tools>"
    "{% for tool in tools %}\n{{ tool | tojson }}{% endfor %}\n</tools>\n"
    "For each call, return a JSON object with the name and arguments within <tool_call></tool_call>.<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "{% if message.role == 'system' and tools and loop.first %}"
    "{% elif message.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ text(message.content) }}\n"
    "</tool_response><|im_end|>\n"
    "{% else %}<|im_start|>{{ message.role }}\n{{ text(message.content) }}"
    "{% for call in message.tool_calls or [] %}\n<tool_call>\n"
    "{\"name\": {{ call.function.name | tojson }}, \"arguments\": "
    "{% if call.function.arguments is string %}{{ call.function.arguments }}"
    "{% else %}{{ call.function.arguments | tojson }}{% endif %}}\n</tool_call>"
    "{% endfor %}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: each byte as a printable character (what the ByteLevel pre-tokenizer emits)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


def write_tokenizer(folder: Path) -> int:
    """tokenizer.json with ids: the specials, then byte b at len(SPECIALS) + b, then the tool markup. Returns the
    vocabulary size."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    alphabet = bytes_to_unicode()
    vocab = {text: n for n, text in enumerate(SPECIALS)}
    vocab.update({alphabet[b]: len(SPECIALS) + b for b in range(256)})
    vocab.update({text: len(vocab) + n for n, text in enumerate(TOOL_TOKENS)})
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=SPECIALS[UNK]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    # The tool markup is not special: the parser reads it in the decoded text, so decoding must keep it.
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in TOOL_TOKENS])
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": SPECIALS[BOS], "eos_token": SPECIALS[IM_END],
        "unk_token": SPECIALS[UNK], "pad_token": SPECIALS[UNK], "add_bos_token": False, "add_eos_token": False,
        "model_max_length": N_CTX, "chat_template": CHAT_TEMPLATE}, indent=2))
    return len(vocab)


def write_model(folder: Path) -> Path:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    vocab = write_tokenizer(folder)
    gguf = build_weights()
    rows = vocab - gguf["token_embd.weight"].shape[0]  # the tool markup tokens: never predicted (logit 0)

    def padded(matrix: np.ndarray) -> np.ndarray:
        return np.concatenate([matrix, np.zeros((rows, matrix.shape[1]), dtype=np.float32)])

    tensors = {
        "model.embed_tokens.weight": padded(gguf["token_embd.weight"]),
        "lm_head.weight": padded(gguf["output.weight"]),
        "model.norm.weight": gguf["output_norm.weight"],
        "model.layers.0.input_layernorm.weight": gguf["blk.0.attn_norm.weight"],
        "model.layers.0.post_attention_layernorm.weight": gguf["blk.0.ffn_norm.weight"],
    }
    for hf, name in (("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                     ("self_attn.o_proj", "attn_output"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
                     ("mlp.down_proj", "ffn_down")):
        tensors[f"model.layers.0.{hf}.weight"] = gguf[f"blk.0.{name}.weight"]
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": N_EMBD,
        "intermediate_size": N_EMBD, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
        "head_dim": N_EMBD // 2, "vocab_size": vocab, "max_position_embeddings": N_CTX, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "float32",
        "bos_token_id": BOS, "eos_token_id": IM_END, "pad_token_id": UNK}, indent=2))
    (folder / "generation_config.json").write_text(json.dumps({
        "bos_token_id": BOS, "eos_token_id": IM_END, "pad_token_id": UNK}, indent=2))
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m conformance.refserver.vllm_model OUT_DIR")
    print(write_model(Path(sys.argv[1])))
