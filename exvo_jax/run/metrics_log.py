"""The run's metric writer: JSON lines in `metrics.jsonl`, mirrored to TensorBoard where it is available.

Every line is one JSON object, flushed as soon as it is written, so a crashed run keeps what it logged:
`{"step": 3, "time": 1718000000.0, "train_loss": 0.41}` for per-step scalars, `{"event": "open",
"time": ..., ...}` for anything else. After a resume the steps since the last checkpoint are logged
again; a reader keeps the last line of each step. Non-finite values are written as `null` (strict JSON).
The file is an append-only log, so it is not replaced whole through `exvo_jax.atomic`: each line
is written in one call and flushed.

TensorBoard event files go to `tensorboard/` when `tensorboardX` can be imported; otherwise that part is
skipped silently (no dependency for a viewer). Only process 0 writes; elsewhere the writer is a no-op.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from exvo_jax.run.layout import METRICS_JSONL, TENSORBOARD


class MetricsLog:
    """Appends to `<workdir>/metrics.jsonl` (and TensorBoard) when `enabled`; does nothing otherwise."""

    def __init__(self, workdir: str | Path, enabled: bool = True):
        self.enabled = enabled
        self._file = None
        self._tensorboard = None
        if enabled:
            self._file = open(Path(workdir) / METRICS_JSONL, "a", encoding="utf-8")
            self._tensorboard = _tensorboard_writer(Path(workdir) / TENSORBOARD)

    def scalars(self, step: int, **values: Any) -> None:
        """One line `{"step", "time", name: float, ...}`; values may be Python, numpy or JAX scalars."""
        if not self.enabled:
            return
        floats = {name: float(np.asarray(value)) for name, value in values.items()}
        self._write({"step": int(step), "time": time.time(),
                     **{k: v if math.isfinite(v) else None for k, v in floats.items()}})
        if self._tensorboard is not None:
            for name, value in floats.items():
                self._tensorboard.add_scalar(name, value, int(step))
            self._tensorboard.flush()

    def event(self, name: str, **fields: Any) -> None:
        """One line `{"event": name, "time", **fields}`; values JSON can not encode are written as text."""
        if self.enabled:
            self._write({"event": name, "time": time.time(), **fields})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()


def _tensorboard_writer(logdir: Path):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(logdir=str(logdir))
