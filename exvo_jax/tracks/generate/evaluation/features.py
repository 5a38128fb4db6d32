"""The trained FID classifier as a feature extractor: waveforms or wav files -> 256-d features and emotion ratings.

`load_classifier(workdir)` reads the model `train_classifier` exported. `Classifier.features(waves)` frames
each peak-normalised 16 kHz waveform as the classifier was trained (1600-sample frames, at most
`max_frames`) and returns, at each clip's last valid frame, the top LSTM layer's output `[N, H]` (the FID
feature space, H = 256 at full size) and the model's ten emotion outputs `[N, 10]` (the ratings of the
automatic HEEP proxy). With a `mesh`, batches are sharded over its `data` axis.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jax.sharding import Mesh

from exvo_jax.data.audio import load_audio, peak_normalise
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.models.cnn_lstm import CnnLstm
from exvo_jax.recognition.framing import frame_wave
from exvo_jax.recognition.inference import hidden_clips
from exvo_jax.run import import_model

TRACK = "generate-classifier"  # the exported model's track (see classifier.py)


@dataclasses.dataclass(frozen=True)
class Classifier:
    """A trained classifier's network, weights (numpy), framing settings and `key` (digest of the weights)."""

    model: CnnLstm
    variables: dict
    max_frames: int
    buckets: tuple[int, ...]
    batch_size: int
    key: str

    def features(self, waves: Sequence[np.ndarray], *, mesh: Mesh | None = None,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(features `[N, H]` float64, ratings `[N, 10]`) of 16 kHz mono waveforms (peak-normalised here)."""
        frames = [frame_wave(peak_normalise(np.asarray(w, np.float32)), self.max_frames) for w in waves]
        hidden, outputs = hidden_clips(self.model, self.variables, frames, batch_size=self.batch_size,
                                       buckets=self.buckets, progress=progress, mesh=mesh)
        return hidden.astype(np.float64), outputs

    def file_features(self, paths: Sequence[str | Path], **options) -> tuple[np.ndarray, np.ndarray]:
        """`features` of wav files (any rate or channel count: resampled to 16 kHz mono; silence allowed)."""
        return self.features([load_audio(p, allow_silence=True) for p in paths], **options)


def load_classifier(workdir: str | Path) -> Classifier:
    """The classifier exported by `exvo-jax generate classifier` in `workdir`."""
    arrays, meta = import_model(workdir, command="exvo-jax generate classifier")
    if meta.get("track") != TRACK:
        raise DataError(f"{workdir}: the exported model is not an FID classifier (`exvo-jax generate classifier`)")
    config = meta["config"]
    spec = config["model"]
    model = CnnLstm(hidden=spec["hidden"], outputs=spec["outputs"], channels=tuple(spec["channels"]))
    return Classifier(model=model, variables={"params": arrays["params"], "batch_stats": arrays["batch_stats"]},
                      max_frames=int(config["max_frames"]), buckets=tuple(config["buckets"]),
                      batch_size=int(config["eval_batch_size"]), key=meta["key"])


def wav_files(folder: str | Path) -> list[Path]:
    """Every `.wav` under `folder` (sub-folders included), sorted; a `DataError` when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav")
    if not paths:
        raise DataError(f"{folder}: no .wav files")
    return paths


def generated_sets(folder: str | Path) -> dict[str, list[Path]]:
    """The wavs of a generation submission, `<folder>/<Emotion>/*.wav`, per emotion (EMOTIONS order)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in EMOTIONS)
    if unknown:
        raise DataError(f"{folder / unknown[0]}: not an emotion folder (expected names from {', '.join(EMOTIONS)})")
    sets = {e: sorted((folder / e).glob("*.wav")) for e in EMOTIONS if (folder / e).is_dir()}
    sets = {e: paths for e, paths in sets.items() if paths}
    if not sets:
        raise DataError(f"{folder}: no <Emotion>/*.wav files (the generation submission layout)")
    return sets
