"""The fixed nonlinear map from an emotion blend to the acoustic parameters of a vocal burst.

Each emotion has a prototype in a latent space of acoustic parameters (high f0 and fast bursts for
Amusement, low falling f0 and long dark sounds for Sadness, ...). A clip's latent vector is the
blend-weighted prototype plus an arousal-valence interaction, the speaker's personal bias and map
perturbation, and clip noise; a sigmoid squashes each latent into its physical range.
"""

from __future__ import annotations

import numpy as np

from exvo_jax.data.schema import EMOTIONS

# name: (low, high) physical range reached as the latent goes from -inf to +inf.
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "f0_level": (-3.0, 9.0),  # semitones above the speaker's base f0
    "f0_slope": (-8.0, 8.0),  # semitones of rise (+) or fall (-) across a burst
    "f0_range": (0.05, 2.5),  # spread of burst pitches (semitones); vibrato depth is 0.4 of it
    "vibrato_rate": (2.5, 9.0),  # Hz
    "burst_rate": (0.4, 6.5),  # bursts per second
    "regularity": (0.0, 1.0),  # 1 = isochronous bursts
    "voicing": (0.02, 0.99),  # probability that a burst is voiced
    "duration": (np.log(0.4), np.log(4.6)),  # log seconds of the whole clip
    "attack": (0.04, 0.65),  # fraction of a burst spent rising
    "tilt": (0.15, 0.94),  # one-pole low-pass coefficient of the source: dark voices high
    "breathiness": (0.01, 0.7),  # aspiration noise mixed into voiced bursts
    "mouth": (0.7, 1.4),  # first-formant scaling (mouth opening)
    "roughness": (0.0, 1.0),  # jitter and shimmer amount
}
PARAMS: tuple[str, ...] = tuple(PARAM_RANGES)
NUM_PARAMS = len(PARAMS)

# Emotion prototypes in latent units, columns in PARAMS order.
_PROTOTYPES: dict[str, tuple[float, ...]] = {
    #             lvl  slope range vibr  rate  reg  voic  dur  att  tilt breath mouth rough
    "Awe":         (0.0, -0.3, 0.3, 0.0, -0.8, 0.2, 0.3, 0.7, 0.6, 0.3, 0.6, 0.5, -0.3),
    "Excitement":  (0.8, 0.5, 0.5, 0.3, 0.5, 0.0, 0.6, 0.1, -0.5, -0.7, -0.2, 0.7, 0.0),
    "Amusement":   (0.5, -0.4, 0.3, 0.8, 1.0, 0.8, 0.0, 0.3, -0.8, -0.2, 0.5, 0.4, 0.2),
    "Awkwardness": (-0.3, -0.2, -0.5, -0.3, 0.1, -0.6, -0.5, -0.4, -0.1, 0.3, 0.3, -0.6, 0.1),
    "Fear":        (1.0, 0.5, 0.9, 1.0, 0.4, -0.5, 0.3, -0.5, -0.8, -0.4, 0.5, 0.2, 0.3),
    "Horror":      (-0.4, -0.6, 0.2, 0.2, -0.5, 0.0, -0.8, 0.2, 0.5, 0.7, 0.9, -0.6, 0.6),
    "Distress":    (0.2, -0.7, 0.5, 0.2, -0.4, -0.4, 0.4, 0.5, 0.0, 0.1, 0.2, 0.0, 0.9),
    "Triumph":     (0.6, 0.2, 0.2, -0.2, -0.2, 0.4, 0.9, 0.4, -0.3, -0.9, -0.7, 0.9, -0.2),
    "Sadness":     (-0.8, -0.6, -0.2, 0.1, -0.9, 0.0, 0.5, 0.8, 0.5, 0.8, 0.4, -0.4, 0.3),
    "Surprise":    (0.7, 0.9, -0.1, -0.5, -0.6, 0.3, 0.2, -0.9, -0.9, -0.4, 0.1, 0.6, -0.4),
}
PROTOTYPES = np.array([_PROTOTYPES[e] for e in EMOTIONS]).T  # [P, 10]

# Arousal and valence of each emotion; their product bends the map (a nonlinear interaction).
AROUSAL = np.array([0.3, 0.9, 0.7, -0.2, 0.8, 0.6, 0.5, 0.8, -0.6, 0.7])
VALENCE = np.array([0.6, 0.8, 0.9, -0.3, -0.8, -0.9, -0.7, 0.9, -0.7, 0.2])
_INTERACTION = {"f0_range": 0.8, "burst_rate": 0.6, "tilt": -0.5, "roughness": -0.7, "attack": -0.4}
INTERACTION = np.array([_INTERACTION.get(p, 0.0) for p in PARAMS])  # [P]

PROTOTYPE_GAIN = 4.0  # latent scale of the emotion prototypes
SQUASH_GAIN = 1.1  # sigmoid slope from latent to physical range


def emotion_latent(weights: np.ndarray, map_delta: np.ndarray) -> np.ndarray:
    """[..., P] latent acoustic parameters of blend weights [..., 10] under a speaker's map perturbation."""
    prototype = weights @ (PROTOTYPES + map_delta).T * PROTOTYPE_GAIN  # [..., P]
    arousal, valence = weights @ AROUSAL, weights @ VALENCE  # [...]
    return prototype + (arousal * valence)[..., None] * INTERACTION


def to_physical(latent: np.ndarray) -> dict[str, float]:
    """Squashes a latent vector [P] into each parameter's physical range."""
    unit = 1.0 / (1.0 + np.exp(-SQUASH_GAIN * latent))  # [P]
    return {name: float(low + (high - low) * u) for (name, (low, high)), u in zip(PARAM_RANGES.items(), unit)}
