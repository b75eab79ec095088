"""The generated reference model: deterministic, says its answer and stops, and is a readable GGUF file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance.refserver import tiny_model


def next_logits(weights: dict[str, np.ndarray], token: int) -> np.ndarray:
    """The model's forward pass for one token: attention and FFN contribute nothing, so this is exact."""
    hidden = weights["token_embd.weight"][token]
    normed = hidden / np.sqrt(np.mean(hidden**2) + 1e-5) * weights["output_norm.weight"]
    return weights["output.weight"] @ normed


def test_greedy_generation_spells_the_answer_then_ends_the_turn() -> None:
    weights = tiny_model.build_weights()
    token, text, margins = tiny_model.byte_token(ord("\n")), b"", []
    for _ in range(len(tiny_model.ANSWER) + 1):
        logits = next_logits(weights, token)
        ranked = np.sort(logits)
        margins.append(ranked[-1] - ranked[-2])
        token = int(np.argmax(logits))
        if token == tiny_model.IM_END:
            break
        text += bytes([token - len(tiny_model.SPECIALS)])
    assert text.decode() == tiny_model.ANSWER and token == tiny_model.IM_END
    # A margin of 20 logits keeps the choice the same even at temperature 2 (e^-10 odds for the runner-up).
    assert min(margins) > 20


def test_off_chain_tokens_prefer_to_end_the_turn_then_close_json() -> None:
    weights = tiny_model.build_weights()
    logits = next_logits(weights, tiny_model.byte_token(ord("{")))
    order = [int(i) for i in np.argsort(logits)[::-1][:3]]
    assert order == [tiny_model.IM_END, tiny_model.byte_token(ord('"')), tiny_model.byte_token(ord("}"))]


def test_weights_are_deterministic() -> None:
    first, second = tiny_model.build_weights(), tiny_model.build_weights()
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_gguf_file_declares_llama_chatml_and_mean_pooling(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    path = tiny_model.write_model(tmp_path / "tiny.gguf")
    reader = gguf.GGUFReader(str(path))
    fields = {name: field for name, field in reader.fields.items()}

    def scalar(name: str) -> object:
        field = fields[name]
        value = field.parts[field.data[0]]
        return bytes(value).decode() if value.dtype == np.uint8 else value[0]

    assert scalar("general.architecture") == "llama"
    assert scalar("llama.pooling_type") == gguf.PoolingType.MEAN
    assert "<|im_start|>" in scalar("tokenizer.chat_template")
    assert path.stat().st_size < 2_000_000
