"""Batched evaluation-mode passes over clips: encoder features, last-frame predictions, speaker tasks.

Clips are read by the input pipeline in order, shortest first, in fixed-size batches padded to bucket
lengths (padded rows masked), so the jitted functions compile once per bucket and batches waste little
padding. Every host computes every result (no sharding); results come back in input order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import grain.python as grain
import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from exvo_jax.data.errors import DataError
from exvo_jax.data.pipeline import IN_MEMORY, batches_per_epoch, make_loader
from exvo_jax.data.speakers import support_query
from exvo_jax.models.fewshot import FewShotModel, last_valid
from exvo_jax.tracks.fewshot.adapt import SpeakerTask


CPU_FRAME_GROUP = 16


def frame_group_size(backend: str | None = None) -> int | None:
    """Frames per encoder pass in evaluation mode: 16 on CPU, all frames of a batch at once elsewhere.

    The encoder is per frame once BatchNorm uses running statistics, so grouping frames changes no
    number. On CPU the conv activations of 16 frames (about 6 MB) stay in cache, which measured twice as
    fast as one pass over a batch of 64 clips (1,280 frames); accelerators want the big batch.
    """
    return CPU_FRAME_GROUP if (backend or jax.default_backend()) == "cpu" else None


def grouped_encode(model: FewShotModel, variables, frames: jax.Array, group: int | None) -> jax.Array:
    """Evaluation-mode encoder features `[B, T, F]` of `frames` `[B, T, 1600]`, `group` frames at a time."""
    batch, steps, samples = frames.shape
    if group is None:
        return model.apply(variables, frames, jnp.ones((batch, steps), bool), method=FewShotModel.encode)
    count = batch * steps
    groups = -(-count // group)
    flat = jnp.pad(frames.reshape(count, samples), ((0, groups * group - count), (0, 0)))
    ones = jnp.ones((group, 1), bool)
    features = jax.lax.map(lambda x: model.apply(variables, x, ones, method=FewShotModel.encode),
                           flat.reshape(groups, group, 1, samples))  # [G, group, 1, F]
    return features.reshape(groups * group, -1)[:count].reshape(batch, steps, -1)


@functools.lru_cache(maxsize=None)
def encode_program(model: FewShotModel, group: int | None):
    """Jitted `(variables, frames [B, T, 1600], mask [B, T]) -> features [B, T, 512]` (running BN stats)."""
    return jax.jit(lambda variables, frames, mask: grouped_encode(model, variables, frames, group))


@functools.lru_cache(maxsize=None)
def predict_program(model: FewShotModel, group: int | None):
    """Jitted `(variables, frames, mask) -> [B, K]` outputs at the last valid frame (running BN stats)."""

    def predict(variables, frames, mask):
        features = grouped_encode(model, variables, frames, group)
        outputs = model.apply(variables, features, method=lambda module, x: module.head(x))
        return last_valid(outputs, jnp.sum(mask, axis=1))

    return jax.jit(predict)


def _frames_example(sequence: np.ndarray) -> dict[str, np.ndarray]:
    return {"frames": np.asarray(sequence, np.float32)}


def batched_map(program: Callable, variables, sequences: Sequence[np.ndarray], *, batch_size: int,
                buckets: Sequence[int], desc: str = "", progress: bool = False) -> list[np.ndarray]:
    """Runs `program(variables, x, mask)` over `[T_i, ...]` `sequences`; one result row per sequence, in input order."""
    if not sequences:
        return []
    loader = make_loader(sequences, batch_size=batch_size, buckets=buckets, field="frames", shuffle=False,
                         lengths=[len(s) for s in sequences], decode=_frames_example,
                         shard_options=grain.NoSharding(), read_options=IN_MEMORY)
    results: list[np.ndarray | None] = [None] * len(sequences)
    for batch in tqdm(loader, total=batches_per_epoch(len(sequences), batch_size), desc=desc, disable=not progress,
                      leave=False):
        out = np.asarray(program(variables, batch["frames"], batch["mask"]))
        for row in np.flatnonzero(batch["valid"]):
            results[batch["index"][row]] = out[row]
    return results


def encode_clips(model: FewShotModel, variables, frames: Sequence[np.ndarray], *, batch_size: int,
                 buckets: Sequence[int], progress: bool = False) -> list[np.ndarray]:
    """Encoder features `[T_i, 512]` of every clip (padding frames cut off)."""
    features = batched_map(encode_program(model, frame_group_size()), variables, frames, batch_size=batch_size,
                           buckets=buckets, desc="encoding", progress=progress)
    return [f[: len(x)] for f, x in zip(features, frames)]


def predict_clips(model: FewShotModel, variables, frames: Sequence[np.ndarray], *, batch_size: int,
                  buckets: Sequence[int], progress: bool = False) -> np.ndarray:
    """Speaker-independent predictions `[N, K]` at each clip's last valid frame."""
    if not frames:
        return np.zeros((0, model.outputs), np.float32)
    return np.stack(batched_map(predict_program(model, frame_group_size()), variables, frames,
                                batch_size=batch_size, buckets=buckets, desc="predicting", progress=progress))


def support_rule(targets: np.ndarray) -> str:
    """How to pick support clips from `targets` `[N, K]` (NaN rows unlabelled): "first" when every clip is
    labelled (Val; Test with its labels), else "labelled" (Test with its released support labels)."""
    return "first" if bool(np.all(np.isfinite(targets))) else "labelled"


def speaker_tasks(items: Sequence, features: Sequence[np.ndarray], targets: np.ndarray, *, shots: int,
                  support: str = "first", speaker_of: Callable = lambda c: c.speaker,
                  name_of: Callable = lambda c: c.file_id) -> tuple[list[SpeakerTask], list[list[int]]]:
    """Few-shot tasks of each speaker and each task's query indices.

    `targets` `[N, K]` hold NaN rows where a clip's labels are unknown. `support="first"`: the first
    `shots` clips of a speaker in file order are support (they need labels: an error names the clip
    otherwise). `support="labelled"`: a speaker's labelled clips are support, whatever their order, and
    each speaker needs exactly `shots` of them (see `support_query`). The rest are query; query targets
    are kept where all of a speaker's are known.
    """
    index = {id(item): i for i, item in enumerate(items)}
    known = np.all(np.isfinite(targets), axis=1)  # [N]
    tasks, query_indices = [], []
    for episode in support_query(items, shots, speaker_of=speaker_of, name_of=name_of, support=support,
                                 labelled=lambda c: bool(known[index[id(c)]])):
        s_idx = [index[id(c)] for c in episode.support]
        q_idx = [index[id(c)] for c in episode.query]
        unlabelled = [name_of(items[i]) for i in s_idx if not known[i]]
        if unlabelled:
            raise DataError(f"speaker {episode.speaker!r}: support clip(s) {', '.join(unlabelled)} have no labels")
        query_known = bool(q_idx) and bool(np.all(known[q_idx]))
        tasks.append(SpeakerTask(
            speaker=str(episode.speaker),
            support=tuple(features[i] for i in s_idx),
            targets=targets[s_idx],
            query=tuple(features[i] for i in q_idx),
            query_targets=targets[q_idx] if query_known else None,
        ))
        query_indices.append(q_idx)
    return tasks, query_indices
