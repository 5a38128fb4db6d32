"""Writes `dummy_data/`: a tiny corpus in the nonverbal-vocalisation layout with synthetic audio.

Seven speakers with two clips each (`<class>/<speaker>_<class>_<trial>_<sex>_<age>_<loc>_<quality>_<noise>.wav`,
0.05-0.1 s noisy tones) and a matching metadata JSON; no real recording is copied. Deterministic:
rerunning rewrites the same bytes. Run from the repository root:

    python datasets/nonverbal_vocalization/dummy_data_generation.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from exvo_jax.atomic import write_text
from exvo_jax.data.audio import write_wav
from exvo_jax.data.nonverbal import METADATA_FILE, SEXES, VOCAL_TYPES
from exvo_jax.data.schema import SAMPLE_RATE

DUMMY_DIR = Path(__file__).resolve().parent / "dummy_data"
SPEAKERS = ("A1B2", "C3D4", "E5F6", "G7H8", "J9K0", "L1M2", "N3P4")
CLIPS_PER_SPEAKER = 2


def _wave(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(SAMPLE_RATE // 20, SAMPLE_RATE // 10))
    t = np.arange(n) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * rng.uniform(100, 900) * t) * np.hanning(n)
    return (0.4 * tone + 0.05 * rng.standard_normal(n)).astype(np.float32)


def write_dummy_data(out_dir: Path = DUMMY_DIR, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    metadata = {}
    for speaker in SPEAKERS:
        sex, age = int(rng.integers(0, 2)), int(rng.integers(15, 60))
        classes = sorted(rng.choice(len(VOCAL_TYPES), size=CLIPS_PER_SPEAKER, replace=False).tolist())
        metadata[speaker] = {"sex": SEXES[sex].capitalize(), "age": age, "class": [VOCAL_TYPES[c] for c in classes]}
        for vocal_type in classes:
            trial = int(rng.integers(1, 16))
            location, quality, noise = (int(v) for v in rng.integers(0, 2, size=3))
            name = f"{speaker}_{vocal_type}_{trial}_{sex}_{age}_{location}_{quality}_{noise}.wav"
            write_wav(out_dir / VOCAL_TYPES[vocal_type] / name, _wave(rng))
    write_text(out_dir / METADATA_FILE, json.dumps(metadata, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", type=Path, default=DUMMY_DIR)
    write_dummy_data(parser.parse_args().out_dir)


if __name__ == "__main__":
    main()
