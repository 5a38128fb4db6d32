"""The emotion condition of the class-conditional GAN: one encoding, so that a model is sampled as it was trained.

Training gives every Train clip a vector (`clip_conditions`): `condition="hard"` the one-hot of the clip's
dominant emotion (the argmax of its intensities, first on ties), `"soft"` its ten intensities clipped to
[0, 1]. Sampling asks for an emotion, not a clip, so each emotion gets one vector (`emotion_conditions`,
the rows of a `[10, 10]` matrix recorded in the exported model): hard -> the one-hot of the emotion; soft ->
the mean intensity vector of the Train clips whose dominant emotion is that emotion (the one-hot, with a
logged warning, for an emotion that dominates no clip).
"""

from __future__ import annotations

import logging

import numpy as np

from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS

log = logging.getLogger(__name__)


def one_hots() -> np.ndarray:
    """`[10, 10]` float32 identity: row e is the one-hot of emotion e."""
    return np.eye(NUM_EMOTIONS, dtype=np.float32)


def dominant_rows(intensities: np.ndarray, emotion: str) -> np.ndarray:
    """Indices of the rows of `intensities [N, 10]` whose dominant emotion (first on ties) is `emotion`."""
    return np.flatnonzero(np.argmax(intensities, axis=-1) == EMOTIONS.index(emotion))


def clip_conditions(intensities: np.ndarray, condition: str) -> np.ndarray:
    """`[N, 10]` float32 training vectors: one-hot of the dominant emotion, or the intensities clipped to [0, 1]."""
    intensities = np.asarray(intensities, np.float32)
    if condition == "hard":
        return one_hots()[np.argmax(intensities, axis=-1)]
    if condition == "soft":
        return np.clip(intensities, 0.0, 1.0)
    raise ValueError(f"condition must be 'hard' or 'soft', got {condition!r}")


def emotion_conditions(intensities: np.ndarray, condition: str) -> np.ndarray:
    """`[10, 10]` float32 sampling vectors, row e for emotion e, from the Train clips' intensities `[N, 10]`."""
    vectors = clip_conditions(intensities, condition)
    if condition == "hard":
        return one_hots()
    rows = one_hots()
    for e, emotion in enumerate(EMOTIONS):
        chosen = dominant_rows(intensities, emotion)
        if chosen.size:
            rows[e] = vectors[chosen].mean(axis=0)
        else:
            log.warning("no Train clip is dominated by %s: the soft-conditioned model samples it with its one-hot",
                        emotion)
    return rows
