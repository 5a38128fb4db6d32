"""Fine-tune-aware ("episodic") training of the sequence head on cached encoder features.

Each meta-step draws a meta-batch of training speakers; per speaker a random `shots` clips are support
and up to `query_clips` others are query. The head is adapted on the support set with the same inner
loop as personalisation (`adapt.adapt_personal`, same mode / K / learning rate), and the loss of the
adapted head on the query set is minimised with Adam over the speaker-independent weights, vmapped over
speakers. `first_order=True` is first-order MAML (the query gradient at the adapted weights is applied
to the initial weights); `False` differentiates through the K inner steps. With `inner steps = 0` this
is plain supervised training of the head on the same batches, the control for the comparison.

The speakers of a meta-batch are sharded over the `speakers` axis of a device mesh (by default all
devices of all processes; the meta-batch must be a multiple of it) and the head's weights replicated:
jit partitions the vmap over speakers and the mean over them becomes one all-reduce. Every process
draws the same meta-batches (same seed) and places only its devices' speakers.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh
from tqdm import tqdm

from exvo_jax.data.padding import bucket_length, pad_batch
from exvo_jax.parallel import check_divisible, place, replicated, sharded, to_host
from exvo_jax.tracks.fewshot.adapt import (
    SPEAKER_AXIS,
    AdaptSettings,
    adapt_personal,
    adapted_head,
    predict_last,
    speaker_mesh,
)
from exvo_jax.tracks.fewshot.head_params import merge_params, split_params


@dataclasses.dataclass(frozen=True)
class EpisodicSettings:
    """Meta-training: meta-steps, speakers per meta-batch, query clips per speaker, outer Adam lr."""

    steps: int = 200
    meta_batch: int = 8
    query_clips: int = 8
    learning_rate: float = 1e-4
    first_order: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.steps < 0 or self.meta_batch < 1 or self.query_clips < 1 or self.learning_rate <= 0:
            raise ValueError(f"need steps >= 0, meta_batch >= 1, query_clips >= 1, learning_rate > 0: {self}")


@dataclasses.dataclass(frozen=True)
class SpeakerClips:
    """All of one training speaker's encoder features `[T_i, 512]` and targets `[N, K]`."""

    features: tuple[np.ndarray, ...]
    targets: np.ndarray


@functools.lru_cache(maxsize=None)
def meta_step_program(head, inner_steps: int, weight_decay: float, first_order: bool, outer, mesh: Mesh | None = None):
    """Jitted `(shared, personal, opt_state, inner_lr, sx, sl, sy, qx, ql, qy, qw)` -> same first three + loss.

    On a mesh the batch arrives sharded over `speakers`; weights, optimiser state and loss leave replicated.
    """

    def speaker_loss(shared, personal, inner_lr, sx, sl, sy, qx, ql, qy, qw):
        if first_order:
            adapted = adapt_personal(head, jax.lax.stop_gradient(shared), jax.lax.stop_gradient(personal), sx, sl,
                                     sy, steps=inner_steps, learning_rate=inner_lr, weight_decay=weight_decay)
            # Straight-through: the value is the adapted head, the gradient flows to the initial weights.
            personal = jax.tree.map(lambda p, a: p + jax.lax.stop_gradient(a - p), personal, adapted)
        else:
            personal = adapt_personal(head, shared, personal, sx, sl, sy, steps=inner_steps,
                                      learning_rate=inner_lr, weight_decay=weight_decay)
        errors = jnp.mean(jnp.square(predict_last(head, shared, personal, qx, ql) - qy), axis=-1)  # [Q]
        return jnp.sum(errors * qw) / jnp.maximum(jnp.sum(qw), 1.0)

    def meta_loss(weights, inner_lr, *batch):
        shared, personal = weights
        losses = jax.vmap(speaker_loss, in_axes=(None, None, None) + (0,) * len(batch))(shared, personal, inner_lr,
                                                                                        *batch)
        return jnp.mean(losses)

    def step(shared, personal, opt_state, inner_lr, *batch):
        loss, grads = jax.value_and_grad(meta_loss)((shared, personal), inner_lr, *batch)
        updates, opt_state = outer.update(grads, opt_state, (shared, personal))
        shared, personal = optax.apply_updates((shared, personal), updates)
        return shared, personal, opt_state, loss

    return jax.jit(step, out_shardings=None if mesh is None else replicated(mesh))


def sample_meta_batch(speakers: Sequence[SpeakerClips], rng: np.random.Generator, *, shots: int, meta_batch: int,
                      query_clips: int, length: int):
    """Padded arrays of one meta-batch.

    Support features [M, S, T, F], lengths [M, S], targets [M, S, K]; query features [M, Q, T, F],
    lengths [M, Q], targets [M, Q, K] and row weights [M, Q] (0 for padding rows).
    """
    chosen = rng.choice(len(speakers), size=meta_batch, replace=len(speakers) < meta_batch)
    arrays = []
    for i in chosen:
        speaker = speakers[i]
        order = rng.permutation(len(speaker.features))
        support, query = order[:shots], order[shots:shots + query_clips]
        sx, smask = pad_batch([speaker.features[j] for j in support], length)
        qx, qmask = pad_batch([speaker.features[j] for j in query], length, query_clips)
        qy = np.zeros((query_clips, speaker.targets.shape[1]), np.float32)
        qy[: len(query)] = speaker.targets[query]
        arrays.append((sx, smask.sum(1), speaker.targets[support], qx, np.maximum(qmask.sum(1), 1), qy,
                       (np.arange(query_clips) < len(query)).astype(np.float32)))
    return tuple(np.stack(column) for column in zip(*arrays))


def check_meta_batch(meta_batch: int, mesh: Mesh | None = None) -> None:
    """ValueError unless the meta-batch splits evenly over the `speakers` axis of `mesh` (default: all devices)."""
    check_divisible(meta_batch, speaker_mesh() if mesh is None else mesh, SPEAKER_AXIS, what="episodic.meta_batch")


def meta_train(head_params, speakers: Sequence[SpeakerClips], adapt: AdaptSettings, settings: EpisodicSettings, *,
               hidden: int, outputs: int, shots: int, buckets: Sequence[int], progress: bool = False,
               mesh: Mesh | None = None):
    """Returns head params (host arrays) trained so that `adapt` on a speaker's support set does well on its queries.

    `adapt.mode` must be `full` or `bias_head` (LoRA factors are fresh per speaker, so there is no shared
    initialisation of them to meta-learn). The meta-batch is split over the `speakers` axis of `mesh`
    (default `speaker_mesh()`), of which it must be a multiple.
    """
    if adapt.mode not in ("full", "bias_head"):
        raise ValueError(f"episodic training adapts in mode 'full' or 'bias_head', got {adapt.mode!r}")
    usable = [s for s in speakers if len(s.features) > shots]
    if not usable:
        raise ValueError(f"episodic training needs speakers with more than {shots} clips")
    mesh = speaker_mesh() if mesh is None else mesh
    check_meta_batch(settings.meta_batch, mesh)
    head = adapted_head(hidden, outputs, adapt)
    shared, personal = split_params(to_host(head_params), adapt.mode)
    outer = optax.adam(settings.learning_rate)
    shared, personal, opt_state = place((shared, personal, to_host(outer.init((shared, personal)))), replicated(mesh))
    step = meta_step_program(head, adapt.steps, adapt.weight_decay, settings.first_order, outer, mesh)
    length = bucket_length(max(len(f) for s in usable for f in s.features), buckets)
    rng = np.random.default_rng(settings.seed)
    losses = []
    for _ in tqdm(range(settings.steps), desc="episodic training", disable=not progress, leave=False):
        batch = sample_meta_batch(usable, rng, shots=shots, meta_batch=settings.meta_batch,
                                  query_clips=settings.query_clips, length=length)
        shared, personal, opt_state, loss = step(shared, personal, opt_state, np.float32(adapt.learning_rate),
                                                 *place(batch, sharded(mesh, SPEAKER_AXIS)))
        losses.append(loss)
    final = float(to_host(losses[-1])) if losses else float("nan")
    if losses and not np.isfinite(final):
        raise FloatingPointError(f"non-finite episodic loss {final}")
    return to_host(merge_params(shared, personal))


def speaker_normalise(features: Sequence[np.ndarray], speakers: Sequence[str]) -> list[np.ndarray]:
    """Subtracts from every clip's features `[T, F]` its speaker's mean feature over all of that speaker's frames.

    Uses audio only (no labels), so it applies to query clips of unseen speakers as well.
    """
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for f, s in zip(features, speakers):
        sums[s] = sums.get(s, 0.0) + f.sum(axis=0)
        counts[s] = counts.get(s, 0) + len(f)
    return [f - (sums[s] / counts[s]).astype(f.dtype) for f, s in zip(features, speakers)]
