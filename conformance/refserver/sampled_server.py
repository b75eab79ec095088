"""llama-cpp-python's server for the sampled variant: every model load draws its seed from the operating system.

Without a fixed seed llama-cpp-python derives each request's seed from the previous one, starting from a constant;
its server reloads a model whenever requests switch between the chat and the embedding alias, and each reload
starts that sequence again, so two runs of the same requests in the same order would sample exactly alike. Here
the start of the sequence is random, so each request gets a new seed that no earlier run has used.
"""

from __future__ import annotations

import os
from typing import Any

import llama_cpp
from llama_cpp.server.__main__ import main

_original_init = llama_cpp.Llama.__init__


def _init_with_random_seed(self: llama_cpp.Llama, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.set_seed(int.from_bytes(os.urandom(4), "little"))


llama_cpp.Llama.__init__ = _init_with_random_seed  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
