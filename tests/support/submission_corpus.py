"""A tiny labelled release (data_info.csv + test_labels.csv, no audio) for submission and scoring tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from exvo_jax.data.schema import EMOTIONS, REQUIRED_COLUMNS

# (split, speaker, clips): Val and Test speakers have 2 support clips and at least one query clip.
SPEAKERS = (("Train", "A", 3), ("Val", "V1", 4), ("Val", "V2", 3), ("Test", "T1", 4), ("Test", "T2", 5))


def _rows(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows, next_id = [], 100
    for split, speaker, clips in SPEAKERS:
        for _ in range(clips):
            row = {"File_ID": f"[{next_id}]", "Split": split, "Subject_ID": speaker,
                   "Age": f"{rng.uniform(18, 39.5):.1f}", "Country": str(int(rng.integers(0, 4)))}
            row.update({e: f"{v:.4f}" for e, v in zip(EMOTIONS, rng.random(len(EMOTIONS)))})
            rows.append(row)
            next_id += 1
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(REQUIRED_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def write_labelled_release(root: Path, test_labels: bool = True) -> Path:
    """Writes data_info.csv with blank Test labels and, if asked, test_labels.csv with them."""
    root.mkdir(parents=True, exist_ok=True)
    rows = _rows()
    blinded = [
        {**r, **{c: "" for c in ("Age", "Country", *EMOTIONS)}} if r["Split"] == "Test" else r for r in rows
    ]
    _write(root / "data_info.csv", blinded)
    if test_labels:
        _write(root / "test_labels.csv", [r for r in rows if r["Split"] == "Test"])
    return root
