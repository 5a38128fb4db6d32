"""Which head parameters a speaker adapts, per adaptation mode, and the head's parameters laid out for it.

`full` adapts every head parameter, `bias_head` the LSTM biases and the Dense head, `ridge` the Dense
head, `lora` only the low-rank factors added to the frozen LSTM kernels. Parameters travel as flat
dicts keyed by path, split into the shared part (one copy for all speakers) and the personal part.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import traverse_util

from exvo_jax.models.cnn_lstm import kaiming_uniform


def is_personal(path: tuple[str, ...], mode: str) -> bool:
    """Whether a head parameter (path inside the head's params) is adapted per speaker in `mode`."""
    if mode == "full":
        return True
    if mode == "bias_head":
        return path[0] == "dense" or path[-1] in ("b_ih", "b_hh")
    if mode == "ridge":
        return path[0] == "dense"
    return path[-1].startswith("lora_")


def split_params(head_params, mode: str) -> tuple[dict, dict]:
    """(shared, personal) flat dicts keyed by parameter path."""
    flat = traverse_util.flatten_dict(head_params)
    personal = {k: v for k, v in flat.items() if is_personal(k, mode)}
    shared = {k: v for k, v in flat.items() if not is_personal(k, mode)}
    return shared, personal


def merge_params(shared: dict, personal: dict):
    return traverse_util.unflatten_dict({**shared, **personal})


@functools.partial(jax.jit, static_argnums=(1, 2))
def with_lora(head_params, rank: int, seed: int = 0):
    """Adds zero-effect LoRA factors to the LSTM layers of trained head params (A random, B zero)."""
    params = traverse_util.flatten_dict(head_params)
    key = jax.random.key(seed)
    for layer in ("lstm_0", "lstm_1"):
        for name in ("ih", "hh"):
            kernel = params[(layer, f"w_{name}")]
            key, sub = jax.random.split(key)
            params[(layer, f"lora_{name}_a")] = kaiming_uniform(sub, (kernel.shape[0], rank), kernel.dtype)
            params[(layer, f"lora_{name}_b")] = jnp.zeros((rank, kernel.shape[1]), kernel.dtype)
    return traverse_util.unflatten_dict(params)


def prepare_head_params(head_params, mode: str, lora_rank: int, seed: int = 0):
    """Trained head params in the layout `mode` adapts (LoRA factors of `lora_rank` added for `lora`)."""
    return with_lora(head_params, lora_rank, seed) if mode == "lora" else head_params
