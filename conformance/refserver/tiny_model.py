"""Generate a tiny, deterministic llama-architecture GGUF model (a few hundred KB, well under a second).

Nothing is downloaded: the weights are built here. Attention and feed-forward outputs are zero, so the residual
stream is the current token's embedding, and the output matrix maps each token of a fixed answer to the next
one with a margin of tens of logits: the model says ANSWER and stops, at any temperature. The vocabulary is
byte-level (256 byte tokens plus specials) with a ChatML chat template, and pooling is MEAN so the embedding
endpoint returns one vector per input.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

ANSWER = "Sky blue"
N_EMBD = 64
N_CTX = 4096
# A prior over next tokens that holds whatever the current token is (carried by a constant first embedding
# dimension): when the answer chain does not apply, or a grammar forbids its token, the model ends the turn, or
# else closes the JSON string or object it is in. Grammar-constrained tool calls then come out short and valid.
PRIOR = {"<|im_end|>": 30.0, '"': 25.0, "}": 20.0, "<": 15.0}
CONSTANT = 1.0
CHAIN_VALUE, CHAIN_WEIGHT = 8.0, 10.0
# The sampled variant (target llamacpp-sampled): where an answer starts (after the newline that ends the prompt),
# ending the turn at once competes with the answer's first letter, so a sampled request answers "Sky blue" or
# nothing at all, by chance: the extra logit brings <|im_end|> level with the first letter (measured: 15 empty
# answers in 30). Tool decisions are greedy in llama-cpp-python (temperature 0) and JSON grammars forbid ending
# early, so they stay deterministic.
SAMPLED_END_LOGIT = 50.0
SPECIALS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
UNK, BOS, EOS_S, IM_START, IM_END = range(len(SPECIALS))
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def byte_token(value: int) -> int:
    return len(SPECIALS) + value


def transitions() -> dict[int, int]:
    """The answer as a chain of byte tokens: newline (end of the prompt) -> S -> k -> ... -> <|im_end|>."""
    chain = [byte_token(ord("\n"))] + [byte_token(b) for b in ANSWER.encode()] + [IM_END]
    if len(set(chain)) != len(chain):
        raise ValueError("the answer must not repeat a byte: the model only sees the current token")
    return dict(itertools.pairwise(chain))


def build_weights(seed: int = 1234, *, sampled: bool = False) -> dict[str, np.ndarray]:
    """Embeddings: dimension 0 is a constant (it carries the prior); each token of the answer chain owns one
    dimension of its own (so the chain is exact, with no cross-talk); every other token is random noise in the
    remaining dimensions (so that embeddings of different texts differ)."""
    rng = np.random.default_rng(seed)
    vocab = len(SPECIALS) + 256
    chain = transitions()
    own_dims = {token: 1 + n for n, token in enumerate(chain)}
    free = N_EMBD - 1 - len(own_dims)
    embeddings = np.zeros((vocab, N_EMBD), dtype=np.float32)
    embeddings[:, 1 + len(own_dims):] = rng.standard_normal((vocab, free)).astype(np.float32)
    embeddings[:, 0] = CONSTANT
    output = np.zeros((vocab, N_EMBD), dtype=np.float32)
    for current, following in chain.items():
        embeddings[current, 1:] = 0.0
        embeddings[current, own_dims[current]] = CHAIN_VALUE
        output[following, own_dims[current]] = CHAIN_WEIGHT
    for text, logit in PRIOR.items():
        token = SPECIALS.index(text) if text in SPECIALS else byte_token(ord(text))
        output[token, 0] = logit
    if sampled:
        output[IM_END, own_dims[byte_token(ord("\n"))]] = SAMPLED_END_LOGIT / CHAIN_VALUE
    ones = np.ones(N_EMBD, dtype=np.float32)
    square = np.zeros((N_EMBD, N_EMBD), dtype=np.float32)
    return {
        "token_embd.weight": embeddings,
        "output_norm.weight": ones,
        "output.weight": output,
        "blk.0.attn_norm.weight": ones,
        "blk.0.attn_q.weight": square,
        "blk.0.attn_k.weight": square,
        "blk.0.attn_v.weight": square,
        "blk.0.attn_output.weight": square,
        "blk.0.ffn_norm.weight": ones,
        "blk.0.ffn_gate.weight": square,
        "blk.0.ffn_up.weight": square,
        "blk.0.ffn_down.weight": square,
    }


def write_model(path: str | Path, *, sampled: bool = False) -> Path:
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("openai-conformance tiny " + ("sampled" if sampled else "deterministic") + " model")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(1)
    writer.add_feed_forward_length(N_EMBD)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_rope_dimension_count(N_EMBD // 2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    tokens = [s.encode() for s in SPECIALS] + [f"<0x{b:02X}>".encode() for b in range(256)]
    types = [gguf.TokenType.UNKNOWN] + [gguf.TokenType.CONTROL] * 4 + [gguf.TokenType.BYTE] * 256
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(types)
    writer.add_bos_token_id(BOS)
    writer.add_eos_token_id(IM_END)
    writer.add_unk_token_id(UNK)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)
    for name, tensor in build_weights(sampled=sampled).items():
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
