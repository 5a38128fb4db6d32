"""One padding and one bucketing rule for variable-length sequences, shared by the input pipeline and by
the few-shot programs that batch clips already in memory (adaptation, episodes).

A sequence of T steps goes into the smallest bucket length L >= T (or is cropped to the largest), and a
batch is zero-padded to L with a mask that is True on real steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_buckets(buckets: Sequence[int]) -> None:
    if not buckets or any(b <= 0 for b in buckets) or list(buckets) != sorted(set(buckets)):
        raise ValueError(f"buckets must be strictly increasing positive lengths, got {list(buckets)}")


def bucket_length(n: int, buckets: Sequence[int]) -> int:
    """The smallest bucket holding `n` time steps; the largest bucket where none does (the sequence is cropped)."""
    check_buckets(buckets)
    for bucket in buckets:
        if n <= bucket:
            return int(bucket)
    return int(buckets[-1])


def pad_batch(sequences: Sequence[np.ndarray], length: int, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pads (or crops) `[T_i, ...]` arrays along time: (array [rows, L, ...] float32, mask [rows, L] bool).

    1-D waves are the case with no trailing dims; all sequences share the trailing dims of the first.
    `rows` defaults to `len(sequences)`; rows beyond the sequences are empty (all zeros, mask False).
    """
    if not sequences:
        raise ValueError("pad_batch needs at least one sequence")
    rows = len(sequences) if rows is None else rows
    if len(sequences) > rows:
        raise ValueError(f"{len(sequences)} sequences do not fit in {rows} rows")
    tail = np.shape(sequences[0])[1:]
    expected = "[T" + "".join(f", {d}" for d in tail) + "]"
    array = np.zeros((rows, length, *tail), np.float32)  # [rows, L, ...]
    mask = np.zeros((rows, length), bool)  # [rows, L]
    for i, sequence in enumerate(sequences):
        if np.ndim(sequence) == 0 or np.shape(sequence)[1:] != tail:
            raise ValueError(f"sequence {i} has shape {np.shape(sequence)}, expected {expected}")
        n = min(len(sequence), length)
        array[i, :n] = sequence[:n]
        mask[i, :n] = True
    return array, mask
