"""Training data of the Generate track: the Train clips' log-mels, computed once and held in memory.

Every clip is read at 16 kHz and turned into one `[n_mels, frames]` log-mel of the run's geometry (cut, or
padded with the silent value as the baseline does) by the batched JAX front end. The models then draw their
mini-batches from this pool inside the compiled program, each model through its own list of pool rows:

* per emotion: the clips whose intensity for that emotion is exactly 1.0, the reference's rule. A clip
  can belong to several sets. In the synthetic corpus every clip has exactly one emotion at 1.0 (its
  dominant one; the others stay at or below 0.9), so there the sets split the clips by dominant emotion.
* conditional: every clip, with its conditioning vector (`exvo_jax.tracks.generate.condition`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from exvo_jax.data.audio import load_audio
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, Clip, read_release
from exvo_jax.data.schema import COUNTRIES, EMOTIONS
from exvo_jax.features.logmel import MelGeometry, log_mel
from exvo_jax.tracks.generate.condition import clip_conditions, dominant_rows
from exvo_jax.tracks.generate.config import GenerateSettings

MEL_BATCH = 256  # clips per call of the log-mel front end
CONDITIONAL = "conditional"  # the name of the one model of a conditional run


@dataclasses.dataclass(frozen=True)
class MelPool:
    """The Train clips of a run: log-mels `[N, n_mels, frames]`, intensities `[N, 10]`, conditions `[N, 10]`."""

    file_ids: tuple[str, ...]
    mels: np.ndarray
    intensities: np.ndarray
    conditions: np.ndarray  # what a conditional model is given; unused by unconditional ones


@dataclasses.dataclass(frozen=True)
class ModelRows:
    """Which pool rows each model trains on: `index [S, n_max]` (padded with row 0, never drawn), `counts [S]`."""

    names: tuple[str, ...]  # the emotion of each model, or CONDITIONAL
    index: np.ndarray
    counts: np.ndarray


def geometry_of(settings: GenerateSettings) -> MelGeometry:
    return MelGeometry(n_mels=settings.mel.n_mels, hop=settings.mel.hop, frames=settings.mel.frames)


def train_clips(settings: GenerateSettings) -> tuple[Clip, ...]:
    """Labelled Train clips of `settings.data_dir`, of `settings.country` where set."""
    if not settings.data_dir:
        raise DataError("no data folder: pass --data-dir or set data_dir in the config")
    clips = [c for c in read_release(settings.data_dir).split("Train") if c.emotions is not None]
    if settings.country:
        clips = [c for c in clips if c.country == COUNTRIES.index(settings.country)]
    if not clips:
        where = f" from {settings.country}" if settings.country else ""
        raise DataError(f"{Path(settings.data_dir) / DATA_INFO}: no labelled Train clips{where}")
    return tuple(clips)


def input_files(settings: GenerateSettings, clips: tuple[Clip, ...]) -> list[Path]:
    """What the run reads, for the run layer's data fingerprint."""
    return [Path(settings.data_dir) / DATA_INFO] + [c.wav_path for c in clips]


def clip_mels(clips: tuple[Clip, ...], geometry: MelGeometry, progress: bool = True) -> np.ndarray:
    """Log-mels `[N, n_mels, frames]` of the clips' first `frames` frames (shorter clips padded as silence)."""
    keep = geometry.num_samples + geometry.n_fft  # enough samples that no kept frame sees the cut
    size = min(MEL_BATCH, len(clips))  # every call has the same shape: one compilation
    out = np.empty((len(clips), geometry.n_mels, geometry.frames), np.float32)
    for start in tqdm(range(0, len(clips), size), desc="log-mels", unit="batch", disable=not progress):
        batch = clips[start:start + size]
        padded = np.zeros((size, keep), np.float32)  # [B, keep]; rows past the batch are silent filler
        lengths = np.full((size,), keep)
        for row, clip in enumerate(batch):
            wave = load_audio(clip.wav_path)[:keep]
            padded[row, :wave.size] = wave
            lengths[row] = max(wave.size, geometry.n_fft // 2 + 1)
        out[start:start + len(batch)] = np.asarray(log_mel(padded, geometry, lengths))[:len(batch)]
    return out


def load_pool(settings: GenerateSettings, clips: tuple[Clip, ...], progress: bool = True) -> MelPool:
    intensities = np.stack([c.emotions for c in clips]).astype(np.float32)  # [N, 10]
    return MelPool(file_ids=tuple(c.file_id for c in clips), mels=clip_mels(clips, geometry_of(settings), progress),
                   intensities=intensities, conditions=clip_conditions(intensities, settings.condition))


def model_rows(settings: GenerateSettings, pool: MelPool) -> ModelRows:
    """The rows of every model of the run; an emotion without any clip at 1.0 is a `DataError`."""
    if settings.mode == CONDITIONAL:
        sets = [np.arange(len(pool.file_ids))]
        names = (CONDITIONAL,)
    else:
        names = tuple(settings.emotions)
        sets = [np.flatnonzero(pool.intensities[:, EMOTIONS.index(e)] == 1.0) for e in names]
        empty = [e for e, rows in zip(names, sets) if rows.size == 0]
        if empty:
            raise DataError(f"{Path(settings.data_dir) / DATA_INFO}: no Train clip has intensity 1.0 for "
                            f"{', '.join(empty)}; train the conditional model or drop them from the config's emotions")
    counts = np.array([rows.size for rows in sets], np.int32)
    index = np.zeros((len(sets), int(counts.max())), np.int32)
    for s, rows in enumerate(sets):
        index[s, :rows.size] = rows
    return ModelRows(names=names, index=index, counts=counts)


def real_examples(pool: MelPool, rows: ModelRows, emotion: str, count: int) -> np.ndarray:
    """Up to `count` real log-mels `[k, n_mels, frames]` of `emotion` (its model's rows, or its dominant clips)."""
    if emotion in rows.names:
        s = rows.names.index(emotion)
        chosen = rows.index[s, :rows.counts[s]]
    else:
        chosen = dominant_rows(pool.intensities, emotion)
    return pool.mels[chosen[:count]]
