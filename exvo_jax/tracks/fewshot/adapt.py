"""Per-speaker personalisation engine: K optimiser steps on a speaker's support clips, then query predictions.

The encoder is frozen, so its features for every support and query clip are computed once, batched,
before any adaptation; the engine only runs the sequence head. What is adapted is a mode:

- `full`: both LSTM layers and the Dense head (the reference protocol);
- `bias_head`: the LSTM biases and the Dense head; shared kernels serve all speakers at once;
- `lora`: low-rank updates `A @ B` of the LSTM kernels (rank `lora_rank`), shared kernels frozen;
- `ridge`: no optimiser steps: the Dense head solved in closed form per speaker, pulled toward the
  trained head with strength `ridge_strength` (`ridge_head`).

Two execution strategies give the same numbers: `vmap` runs a chunk of speakers as one batched
`jax.vmap` of a `lax.scan` over the K steps (for `ridge`: one batched solve), `map` runs the speakers of
a chunk one after another (`lax.map`) inside one jitted program. `auto` picks `map` for `full` on CPU
(per-speaker copies of the LSTM kernels make the batched form stream every speaker's weights at each
time step) and `vmap` otherwise. The speakers of a chunk are sharded over the `speakers` axis of a
device mesh (by default all devices, of all processes) and each device adapts only its own speakers
(`per_device_map`); predictions come back to every process with `to_host`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh
from tqdm import tqdm

from exvo_jax.data.padding import bucket_length, pad_batch
from exvo_jax.models.cnn_lstm import SequenceHead, last_valid
from exvo_jax.parallel import mesh_from_config, per_device_map, pick_strategy, place, replicated, sharded, to_host
from exvo_jax.tracks.fewshot.head_params import merge_params, prepare_head_params, split_params
from exvo_jax.tracks.fewshot.ridge_head import ridge_speaker

MODES = ("full", "bias_head", "lora", "ridge")
STRATEGIES = ("auto", "vmap", "map")
SPEAKER_AXIS = "speakers"


@dataclasses.dataclass(frozen=True)
class AdaptSettings:
    """How to personalise: mode, K steps, AdamW learning rate / weight decay (ridge: strength), strategy, chunking."""

    mode: str = "full"
    steps: int = 10
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    lora_rank: int = 4
    strategy: str = "auto"
    chunk_size: int = 32
    seed: int = 0
    ridge_strength: float = 0.1

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown adaptation mode {self.mode!r} (expected one of {', '.join(MODES)})")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r} (expected one of {', '.join(STRATEGIES)})")
        if self.steps < 0 or self.chunk_size < 1 or self.learning_rate < 0:
            raise ValueError(f"need steps >= 0, chunk_size >= 1, learning_rate >= 0: {self}")
        if self.mode == "lora" and self.lora_rank < 1:
            raise ValueError(f"lora mode needs lora_rank >= 1, got {self.lora_rank}")
        if self.mode == "ridge" and not self.ridge_strength > 0:
            raise ValueError(f"ridge mode needs ridge_strength > 0, got {self.ridge_strength}")


@dataclasses.dataclass(frozen=True)
class SpeakerTask:
    """One speaker's encoder features: support `[T_i, 512]` with targets `[S, K]`, query `[T_j, 512]`.

    `query_targets` `[Q, K]` are known for validation speakers and episodic training, None otherwise.
    """

    speaker: str
    support: tuple[np.ndarray, ...]
    targets: np.ndarray
    query: tuple[np.ndarray, ...]
    query_targets: np.ndarray | None = None


def resolve_strategy(strategy: str, mode: str, backend: str | None = None) -> str:
    """`auto` -> `map` for full fine-tuning on CPU, `vmap` otherwise; explicit choices pass through.

    Only `full` adapts per-speaker copies of the large LSTM kernels, the case where `pick_strategy`'s
    CPU rule applies; the other modes share those kernels and batch well everywhere.
    """
    if strategy == "auto" and mode != "full":
        return "vmap"
    return pick_strategy(strategy, backend)


def speaker_mesh() -> Mesh:
    """Every device of every process on the `speakers` axis (the default of `adapt.mesh`)."""
    return mesh_from_config({SPEAKER_AXIS: -1})


def adaptation_mesh(settings) -> Mesh:
    """The mesh that adaptation and episodic meta-batches split speakers over: the few-shot settings'
    `adapt.mesh`, checked against the episodic meta-batch."""
    episodic = settings.episodic
    checks = [(episodic.meta_batch, SPEAKER_AXIS, "episodic.meta_batch")] if episodic.enabled else []
    return mesh_from_config(settings.adapt.mesh, checks, setting="adapt.mesh")


def adapted_head(hidden: int, outputs: int, settings: AdaptSettings) -> SequenceHead:
    return SequenceHead(hidden, outputs, settings.lora_rank if settings.mode == "lora" else 0)


FIRST_KERNEL = ("lstm_0", "w_ih")


def first_projection(shared: dict, x) -> jax.Array | None:
    """`x @ w_ih` of the first LSTM layer when that kernel is shared (frozen): computed once, not every step."""
    return x @ shared[FIRST_KERNEL] if FIRST_KERNEL in shared else None


def support_loss(head: nn.Module, shared: dict, personal: dict, x, projected, lengths, targets) -> jax.Array:
    """MSE of the last valid frame, mean over clips and outputs."""
    outputs = head.apply({"params": merge_params(shared, personal)}, x, projected)  # [S, T, K]
    return jnp.mean(jnp.square(last_valid(outputs, lengths) - targets))


def adapt_personal(head: nn.Module, shared: dict, personal: dict, x, lengths, targets, *, steps: int,
                   learning_rate, weight_decay: float) -> dict:
    """K AdamW steps on one speaker's support clips (`x` [S, T, F], `lengths` [S], `targets` [S, K])."""
    optimizer = optax.adamw(learning_rate, weight_decay=weight_decay)
    projected = first_projection(shared, x)
    grad_fn = jax.grad(lambda p: support_loss(head, shared, p, x, projected, lengths, targets))

    def step(carry, _):
        params, opt_state = carry
        updates, opt_state = optimizer.update(grad_fn(params), opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    (personal, _), _ = jax.lax.scan(step, (personal, optimizer.init(personal)), None, length=steps)
    return personal


def predict_last(head: nn.Module, shared: dict, personal: dict, x, lengths) -> jax.Array:
    """Last-valid-frame outputs `[Q, K]` for clips `x` [Q, T, F]."""
    return last_valid(head.apply({"params": merge_params(shared, personal)}, x), lengths)


def chunk_program(head: SequenceHead, strategy: str, steps: int, weight_decay: float, mesh: Mesh | None = None,
                  ridge: bool = False):
    """Jitted `(shared, personal, lr, sx, sl, sy, qx, ql) -> [C, Q, K]` for a chunk of speakers.

    The speaker axis C is split over the `speakers` axis of `mesh` (default: `speaker_mesh()`); each
    device runs `strategy` over its own speakers only. C must be a multiple of that axis. With `ridge`
    the scalar `lr` is the ridge strength and `steps`, `weight_decay` are unused.
    """
    return _chunk_program(head, strategy, steps, weight_decay, speaker_mesh() if mesh is None else mesh, ridge)


@functools.lru_cache(maxsize=None)
def _chunk_program(head: SequenceHead, strategy: str, steps: int, weight_decay: float, mesh: Mesh, ridge: bool):
    def one_speaker(shared, personal, lr, sx, sl, sy, qx, ql):
        if ridge:
            return ridge_speaker(head, merge_params(shared, personal), lr, sx, sl, sy, qx, ql)
        adapted = adapt_personal(head, shared, personal, sx, sl, sy, steps=steps, learning_rate=lr,
                                 weight_decay=weight_decay)
        return predict_last(head, shared, adapted, qx, ql)

    mapped = per_device_map(one_speaker, mesh, SPEAKER_AXIS, in_axes=(None, None, None, 0, 0, 0, 0, 0),
                            strategy=strategy)
    return jax.jit(mapped, out_shardings=sharded(mesh, SPEAKER_AXIS))


def _next_power_of_two(count: int) -> int:
    """Padded sizes (query rows per speaker, speakers per chunk) are powers of two: few distinct shapes."""
    return 1 << max(count - 1, 0).bit_length()


def _chunk_arrays(tasks: Sequence[SpeakerTask], chunk: int, buckets: Sequence[int]):
    """Padded chunk arrays; rows beyond len(tasks) are empty speakers whose outputs are dropped."""
    shots = len(tasks[0].support)
    support_len = bucket_length(max(len(s) for t in tasks for s in t.support), buckets)
    query_len = bucket_length(max([len(q) for t in tasks for q in t.query] + [1]), buckets)
    rows = _next_power_of_two(max(len(t.query) for t in tasks))
    features, outputs = tasks[0].support[0].shape[-1], tasks[0].targets.shape[-1]
    sx = np.zeros((chunk, shots, support_len, features), np.float32)
    sl = np.ones((chunk, shots), np.int32)
    sy = np.zeros((chunk, shots, outputs), np.float32)
    qx = np.zeros((chunk, rows, query_len, features), np.float32)
    ql = np.ones((chunk, rows), np.int32)
    for i, task in enumerate(tasks):
        if len(task.support) != shots:
            raise ValueError(f"speaker {task.speaker!r} has {len(task.support)} support clips, expected {shots}")
        x, mask = pad_batch(task.support, support_len)
        sx[i], sl[i], sy[i] = x, mask.sum(1), task.targets
        if task.query:
            x, mask = pad_batch(task.query, query_len, rows)
            qx[i], ql[i] = x, np.maximum(mask.sum(1), 1)
    return sx, sl, sy, qx, ql


def personalise(head_params, tasks: Sequence[SpeakerTask], settings: AdaptSettings, *, hidden: int, outputs: int,
                buckets: Sequence[int], progress: bool = False, mesh: Mesh | None = None) -> list[np.ndarray]:
    """Adapts a copy of the head to every speaker and returns each speaker's query predictions `[Q_s, K]`.

    `head_params` are the trained (speaker-independent) head params (host values, the same on every
    process); every speaker starts from them. Speakers are split over the `speakers` axis of `mesh`
    (default `speaker_mesh()`); with several processes every process calls this with the same tasks.
    """
    if not tasks:
        return []
    strategy = resolve_strategy(settings.strategy, settings.mode)
    mesh = speaker_mesh() if mesh is None else mesh
    ridge = settings.mode == "ridge"
    program = chunk_program(adapted_head(hidden, outputs, settings), strategy, 0 if ridge else settings.steps,
                            0.0 if ridge else settings.weight_decay, mesh, ridge)
    rate = settings.ridge_strength if ridge else settings.learning_rate
    shared, personal = split_params(to_host(prepare_head_params(head_params, settings.mode, settings.lora_rank, settings.seed)), settings.mode)
    shared, personal = place((shared, personal), replicated(mesh))
    devices = mesh.shape[SPEAKER_AXIS]
    chunk = min(settings.chunk_size, _next_power_of_two(len(tasks)))
    chunk = math.ceil(chunk / devices) * devices
    sharding = sharded(mesh, SPEAKER_AXIS)
    # Chunks of speakers with similar query counts waste less padding; results go back in input order.
    order = sorted(range(len(tasks)), key=lambda i: len(tasks[i].query))
    results: list[np.ndarray | None] = [None] * len(tasks)
    for start in tqdm(range(0, len(order), chunk), desc=f"adapting ({settings.mode}, {strategy})",
                      disable=not progress, leave=False):
        members = order[start:start + chunk]
        arrays = place(_chunk_arrays([tasks[i] for i in members], chunk, buckets), sharding)
        predictions = to_host(program(shared, personal, np.float32(rate), *arrays))
        for row, i in enumerate(members):
            results[i] = predictions[row, : len(tasks[i].query)]
    return results
