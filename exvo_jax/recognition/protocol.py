"""The supervised recognition protocol, written once: train on Train, select on Val, report on held-out clips.

The few-shot track's speaker-independent model and the Generate track's FID classifier are both the
CNN-LSTM trained this way. Every choice (the best epoch; for the few-shot track also the adaptation and
the head) is made on a selection split and the reported numbers come from speakers that made none of
them (`protocol_splits`): with Test labels, selection on Val and report on Test; without them, the Val
speakers halved by a seeded shuffle of their ids into "Val-select" and "Val-heldout". `protocol_data`
reads and frames those clips and lists the files they come from (the run's data fingerprint);
`fit_protocol` trains in an open run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from jax.sharding import Mesh

from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, Corpus, label_arrays, read_release
from exvo_jax.data.speakers import halve_by_speaker
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.settings import RecognitionSettings
from exvo_jax.recognition.training import FramedSet, Progress, fit
from exvo_jax.run import Run

SELECT, HELDOUT = "Val-select", "Val-heldout"
VAL_SPLIT_SEED = 0  # fixed: every run on a release reports on the same held-out Val speakers


def protocol_splits(corpus: Corpus, with_test: bool) -> tuple[dict[str, list], str, str]:
    """Labelled clips of Train, the selection split and the report split, and the names of the last two."""
    labelled = {name: [c for c in corpus.split(name) if c.labelled] for name in ("Train", "Val", "Test")}
    if with_test:
        return labelled, "Val", "Test"
    select, heldout = halve_by_speaker(labelled["Val"], seed=VAL_SPLIT_SEED)
    return {"Train": labelled["Train"], SELECT: select, HELDOUT: heldout}, SELECT, HELDOUT


@dataclasses.dataclass(frozen=True)
class ProtocolData:
    """The protocol's clips per split, framed, with their emotion targets `[N, outputs]`."""

    corpus: Corpus
    splits: dict[str, list]
    select: str
    report: str
    frames: dict[str, list[np.ndarray]]
    targets: dict[str, np.ndarray]
    files: list[Path]  # data_info.csv (and test_labels.csv) and every clip read: the run's fingerprint


def protocol_data(settings: RecognitionSettings, *, test_labels: bool, progress: bool = True) -> ProtocolData:
    """Reads `settings.data_dir`: Test labels used where `test_labels` and `test_labels.csv` exists."""
    if not settings.data_dir:
        raise DataError("no data folder: pass --data-dir or set data_dir in the config")
    root = Path(settings.data_dir)
    if settings.model.outputs > len(EMOTIONS):
        raise DataError(f"model.outputs {settings.model.outputs}: a release has {len(EMOTIONS)} emotions to predict")
    with_test = test_labels and (root / TEST_LABELS).exists()
    corpus = read_release(root, test_labels=with_test)
    splits, select, report = protocol_splits(corpus, with_test)
    empty = [name for name, clips in splits.items() if not clips]
    if empty:
        raise DataError(f"{root / DATA_INFO}: no labelled clips in {', '.join(empty)} (training needs Train clips "
                        "and Val clips of at least two speakers)")
    frames = {name: load_frames([c.wav_path for c in clips], settings.max_frames, progress)
              for name, clips in splits.items()}
    outputs = settings.model.outputs
    targets = {name: label_arrays(clips)["emotions"][:, :outputs] for name, clips in splits.items()}
    files = [root / DATA_INFO] + ([root / TEST_LABELS] if with_test else [])
    files += [c.wav_path for clips in splits.values() for c in clips]
    return ProtocolData(corpus, splits, select, report, frames, targets, files)


def fit_protocol(settings: RecognitionSettings, run: Run, data: ProtocolData, mesh: Mesh,
                 progress: bool = True) -> tuple[Progress, list[dict]]:
    """Trains on Train, keeping the epoch best on the selection split (`exvo_jax.recognition.training.fit`)."""
    return fit(settings, run, FramedSet(data.frames["Train"], data.targets["Train"]),
               FramedSet(data.frames[data.select], data.targets[data.select]), mesh=mesh, progress=progress)
