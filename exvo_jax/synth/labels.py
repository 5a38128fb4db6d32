"""Emotion labels shaped like HUME-VB: one dominant emotion at exactly 1.0 plus a sparse blend of related ones.

Related emotions co-occur through a fixed affinity matrix (Fear/Horror/Distress, Amusement/Excitement/
Triumph, Awe/Surprise, Sadness/Distress, ...), so the ten intensities are correlated as in the release.
Each speaker also has label tendencies: emotions their bursts are perceived to carry whatever the
intended one, a per-speaker label offset that only that speaker's labelled clips reveal.
"""

from __future__ import annotations

import numpy as np

from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS

# How often each emotion is the dominant one (normalised below), in EMOTIONS order.
DOMINANT_WEIGHTS = np.array([1.1, 1.0, 1.3, 0.9, 1.0, 0.8, 1.0, 0.9, 1.0, 1.2])

# Symmetric affinities in [0, 1] between emotions that co-occur in a blend.
_AFFINITY_PAIRS: dict[tuple[str, str], float] = {
    ("Fear", "Horror"): 0.9,
    ("Fear", "Distress"): 0.7,
    ("Horror", "Distress"): 0.7,
    ("Fear", "Surprise"): 0.5,
    ("Horror", "Surprise"): 0.3,
    ("Amusement", "Excitement"): 0.8,
    ("Excitement", "Triumph"): 0.8,
    ("Amusement", "Triumph"): 0.4,
    ("Amusement", "Awkwardness"): 0.5,
    ("Awe", "Surprise"): 0.8,
    ("Awe", "Excitement"): 0.5,
    ("Awe", "Triumph"): 0.4,
    ("Excitement", "Surprise"): 0.5,
    ("Sadness", "Distress"): 0.8,
    ("Sadness", "Awkwardness"): 0.3,
    ("Awkwardness", "Distress"): 0.3,
    ("Sadness", "Horror"): 0.3,
}


def affinity_matrix() -> np.ndarray:
    """[10, 10] symmetric co-occurrence affinities, zero on the diagonal."""
    index = {name: i for i, name in enumerate(EMOTIONS)}
    matrix = np.zeros((NUM_EMOTIONS, NUM_EMOTIONS))
    for (a, b), value in _AFFINITY_PAIRS.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return matrix


AFFINITY = affinity_matrix()
BACKGROUND_RATE = 0.08  # chance that an unrelated emotion still appears in a blend
MAX_SECONDARY = 0.9  # secondary intensities stay below the dominant 1.0
TENDENCY_RATE = 0.2  # chance that a speaker carries a given emotion into all of their bursts


def sample_tendencies(rng: np.random.Generator, count: int) -> np.ndarray:
    """[count, 10] personal label baselines: emotions a speaker's bursts are perceived to carry anyway."""
    present = rng.random((count, NUM_EMOTIONS)) < TENDENCY_RATE
    return np.where(present, rng.uniform(0.2, 0.6, size=(count, NUM_EMOTIONS)), 0.0)


def sample_emotions(rng: np.random.Generator, tendencies: np.ndarray) -> np.ndarray:
    """[N, 10] intensities in [0, 1] for clips whose speakers have `tendencies` [N, 10].

    The dominant emotion is exactly 1.0; related emotions and the speaker's tendencies blend in.
    Values are rounded to 4 decimals so that they survive a CSV round trip unchanged.
    """
    count = tendencies.shape[0]
    dominant = rng.choice(NUM_EMOTIONS, size=count, p=DOMINANT_WEIGHTS / DOMINANT_WEIGHTS.sum())  # [N]
    affinity = AFFINITY[dominant]  # [N, 10]
    present = rng.random((count, NUM_EMOTIONS)) < BACKGROUND_RATE + 0.75 * affinity  # [N, 10]
    strength = rng.beta(2.0, 3.0, size=(count, NUM_EMOTIONS)) * (0.35 + 0.65 * affinity)  # [N, 10]
    emotions = np.where(present, np.clip(strength, 0.02, MAX_SECONDARY), 0.0)
    baseline = tendencies * rng.uniform(0.6, 1.2, size=tendencies.shape)  # [N, 10]
    emotions = np.minimum(np.maximum(emotions, baseline), MAX_SECONDARY)
    emotions = np.round(emotions, 4)
    emotions[np.arange(count), dominant] = 1.0
    return emotions.astype(np.float64)


def blend_weights(emotions: np.ndarray) -> np.ndarray:
    """[..., 10] weights summing to 1 that the acoustics follow; squaring lets the dominant emotion lead."""
    squared = np.square(emotions)
    return squared / np.maximum(squared.sum(axis=-1, keepdims=True), 1e-12)
