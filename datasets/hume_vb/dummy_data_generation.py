"""Writes `dummy_data/`: a tiny HUME-VB release folder with synthetic audio, for the builder test.

Seven clips of four speakers (train 3, validation 2, test 2 with blinded labels), 0.05-0.2 s tones
with noise, and eGeMAPS and openXBOW/125 feature files. Deterministic: rerunning rewrites the same
bytes. Run from the repository root:

    python datasets/hume_vb/dummy_data_generation.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from exvo_jax.atomic import write_text
from exvo_jax.data.audio import write_wav
from exvo_jax.data.release import DATA_INFO, bracket_id
from exvo_jax.data.schema import EMOTIONS, REQUIRED_COLUMNS, SAMPLE_RATE

DUMMY_DIR = Path(__file__).resolve().parent / "dummy_data"
DUMMY_FEATURE_SETS = {"eGeMAPS": 88, "openXBOW/125": 125}
# (file id, split, speaker)
CLIPS = (
    ("10001", "Train", "Speaker_1"),
    ("10002", "Train", "Speaker_1"),
    ("10003", "Train", "Speaker_2"),
    ("20001", "Val", "Speaker_3"),
    ("20002", "Val", "Speaker_3"),
    ("30001", "Test", "Speaker_4"),
    ("30002", "Test", "Speaker_4"),
)


def _wave(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(SAMPLE_RATE // 20, SAMPLE_RATE // 5))
    t = np.arange(n) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * rng.uniform(150, 600) * t) * np.hanning(n)
    return (0.5 * tone + 0.02 * rng.standard_normal(n)).astype(np.float32)


def write_dummy_data(out_dir: Path = DUMMY_DIR, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = [",".join(REQUIRED_COLUMNS)]
    speakers = sorted({speaker for _, _, speaker in CLIPS})
    age_country = {s: (f"{rng.integers(18, 40)}", f"{rng.integers(0, 4)}") for s in speakers}
    for file_id, split, speaker in CLIPS:
        if split == "Test":
            labels = [""] * (2 + len(EMOTIONS))
        else:
            labels = [*age_country[speaker], *(f"{v:.4f}" for v in rng.uniform(0, 1, len(EMOTIONS)))]
        rows.append(",".join([bracket_id(file_id), split, speaker, *labels]))
        write_wav(out_dir / "wav" / f"{file_id}.wav", _wave(rng))
        for feature_set, dim in DUMMY_FEATURE_SETS.items():
            header = ",".join(["name", *(f"f{i}" for i in range(dim))])
            values = ",".join(f"{v:.5f}" for v in rng.standard_normal(dim))
            write_text(out_dir / "feats" / feature_set / f"{file_id}.csv", f"{header}\n'{file_id}.wav',{values}\n")
    write_text(out_dir / DATA_INFO, "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", type=Path, default=DUMMY_DIR)
    write_dummy_data(parser.parse_args().out_dir)


if __name__ == "__main__":
    main()
