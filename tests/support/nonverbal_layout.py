"""Builds tiny nonverbal-vocalisation corpora for tests: the corpus's layout, file names and metadata file,
filled with synthesised clips (the real recordings' licence forbids copying them).

`<class>/{speaker}_{class}_{trial}_{sex}_{age}_{location}_{quality}_{noise}.wav` at 16 kHz, 16-bit mono,
and `Nonverbal_Vocalization_metadata.json` as `{speaker: {"sex": "Male", "age": 22, "class": [names]}}`.
Each clip is a harmonic tone whose pitch follows its vocalisation type and its speaker's sex, under a
burst envelope whose rate follows the speaker's age, plus noise: learnable, not realistic.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from exvo_jax.data.audio import write_wav
from exvo_jax.data.nonverbal import METADATA_FILE, NUM_VOCAL_TYPES, SEXES, VOCAL_TYPES
from exvo_jax.data.schema import SAMPLE_RATE

SECONDS = 1.0


def clip_wave(vocal_type: int, sex: int, age: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = (110.0 + 40.0 * vocal_type) * (1.6 if sex == 0 else 1.0) * rng.uniform(0.97, 1.03)
    harmonics = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in (1, 2, 3))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * (1.0 + age / 10.0) * t)
    return (0.3 * envelope * harmonics + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def write_nonverbal_layout(root: Path, speakers: int = 20, clips_per_speaker: int = 5, seed: int = 0) -> Path:
    """A corpus of `speakers` speakers with `clips_per_speaker` clips each (distinct types) under `root`."""
    rng = np.random.default_rng(seed)
    metadata = {}
    for s in range(speakers):
        speaker, sex, age = f"S{s:03d}", int(rng.integers(len(SEXES))), int(rng.integers(18, 60))
        types = sorted(rng.choice(NUM_VOCAL_TYPES, clips_per_speaker, replace=False).tolist())
        for trial, vocal_type in enumerate(types, start=1):
            name = f"{speaker}_{vocal_type}_{trial}_{sex}_{age}_{int(rng.integers(2))}_0_0.wav"
            write_wav(root / VOCAL_TYPES[vocal_type] / name, clip_wave(vocal_type, sex, age, rng))
        metadata[speaker] = {"sex": SEXES[sex].capitalize(), "age": age, "class": [VOCAL_TYPES[k] for k in types]}
    (root / METADATA_FILE).write_text(json.dumps(metadata, indent=1) + "\n")
    return root
