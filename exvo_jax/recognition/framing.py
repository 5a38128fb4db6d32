"""Audio to frames: peak-normalised 16 kHz mono cut into 1600-sample frames, padded to a few bucket lengths.

The same function prepares training, validation, adaptation and test clips. A clip keeps at most
`max_frames` whole frames (the remainder is dropped); a clip shorter than one frame is zero-padded to one.
Batches of frames (or of encoder features) are padded by `exvo_jax.data.pipeline` to the smallest
bucket length in frames that holds their longest clip, so jitted functions see a bounded set of shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from exvo_jax.data.audio import load_audio
from exvo_jax.models.cnn_lstm import FRAME_SAMPLES

MAX_FRAMES = 200


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

