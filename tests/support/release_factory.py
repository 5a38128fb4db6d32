"""Builds tiny release-layout folders (data_info.csv + wav/) for tests, with chosen defects."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from exvo_jax.data.audio import write_wav
from exvo_jax.data.schema import EMOTIONS, REQUIRED_COLUMNS

HEADER = list(REQUIRED_COLUMNS)


def tone(seconds: float = 0.5, rate: int = 16_000, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def labelled_row(file_id: str, split: str, speaker: str, age="25", country="2", dominant: int = 0) -> dict:
    row = {"File_ID": f"[{file_id}]", "Split": split, "Subject_ID": speaker, "Age": age, "Country": country}
    row.update({e: ("1.0" if i == dominant else "0.1") for i, e in enumerate(EMOTIONS)})
    return row


def blank_row(file_id: str, speaker: str) -> dict:
    row = {c: "" for c in HEADER}
    row.update({"File_ID": f"[{file_id}]", "Split": "Test", "Subject_ID": speaker})
    return row


def write_release(root: Path, rows: list[dict], header: list[str] | None = None, audio: bool = True) -> Path:
    """Writes data_info.csv with `rows` (columns in `header` order) and a tone for every row's wav."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wav").mkdir(exist_ok=True)
    header = header or HEADER
    with (root / "data_info.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    if audio:
        for row in rows:
            write_wav(root / "wav" / f"{row['File_ID'].strip('[]')}.wav", tone())
    return root


def small_release(root: Path) -> Path:
    """2 Train, 1 Val and 1 Test speaker with 3 clips each, all valid."""
    rows = []
    for s, split in enumerate(("Train", "Train", "Val")):
        rows += [labelled_row(f"{s}{k}", split, f"S{s}", dominant=k) for k in range(3)]
    rows += [blank_row(f"9{k}", "S9") for k in range(3)]
    return write_release(root, rows)
