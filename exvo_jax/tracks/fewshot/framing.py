"""Audio to frames: peak-normalised 16 kHz mono cut into 1600-sample frames, padded to a few bucket lengths.

The same function prepares training, validation, adaptation and test clips. A clip keeps at most
`max_frames` whole frames (the remainder is dropped); a clip shorter than one frame is zero-padded to one.
Batches are padded to the smallest bucket length that holds their longest clip (`bucket_length`), so
jitted functions see a bounded set of shapes. `pad_sequences` pads `[T, ...]` arrays (frames or encoder
features), where `exvo_jax.data.pipeline.pad_batch` pads 1-D waves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from exvo_jax.data.audio import load_audio
from exvo_jax.models.fewshot import FRAME_SAMPLES

MAX_FRAMES = 200
BUCKETS = (10, 25, 50, 100, 200)


def frame_wave(wave: np.ndarray, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """`[N]` samples -> `[T, 1600]` frames with 1 <= T <= max_frames."""
    if wave.ndim != 1:
        raise ValueError(f"expected a mono waveform [N], got shape {wave.shape}")
    steps = min(max(len(wave) // FRAME_SAMPLES, 1), max_frames)
    if len(wave) < FRAME_SAMPLES:
        wave = np.pad(wave, (0, FRAME_SAMPLES - len(wave)))
    return np.asarray(wave[: steps * FRAME_SAMPLES], np.float32).reshape(steps, FRAME_SAMPLES)


def load_frames(paths: Sequence[str | Path], max_frames: int = MAX_FRAMES, progress: bool = False) -> list[np.ndarray]:
    """Reads and frames every audio file (peak-normalised); errors name the file."""
    return [frame_wave(load_audio(path, normalise=True), max_frames)
            for path in tqdm(paths, desc="loading audio", disable=not progress, leave=False)]


def pad_sequences(sequences: Sequence[np.ndarray], length: int,
                  rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stacks `[T_i, ...]` arrays into `[rows, length, ...]` with a mask `[rows, length]` (extra rows empty)."""
    rows = len(sequences) if rows is None else rows
    if len(sequences) > rows:
        raise ValueError(f"{len(sequences)} sequences do not fit in {rows} rows")
    if not sequences:
        raise ValueError("pad_sequences needs at least one sequence")
    tail = sequences[0].shape[1:]
    out = np.zeros((rows, length, *tail), np.float32)
    mask = np.zeros((rows, length), bool)
    for i, seq in enumerate(sequences):
        if len(seq) > length:
            raise ValueError(f"sequence {i} has {len(seq)} frames, more than the padded length {length}")
        out[i, : len(seq)] = seq
        mask[i, : len(seq)] = True
    return out, mask
