"""Trainers run on data held in memory: each opens its own run with an empty data fingerprint (no input files)."""

from __future__ import annotations

from pathlib import Path

from exvo_jax.recognition import training as recognition
from exvo_jax.recognition.settings import WATCH as RECOGNITION_WATCH
from exvo_jax.run import data_fingerprint, open_run
from exvo_jax.tracks.multitask import training as multitask
from exvo_jax.tracks.multitask.config import WATCH as MULTITASK_WATCH


def fit_recognition(settings, workdir: Path, train, val, **kwargs):
    """`exvo_jax.recognition.training.fit` on framed clips in memory: (progress record, history)."""
    with open_run(workdir, settings, data_fingerprint([]), watch_fields=RECOGNITION_WATCH) as run:
        return recognition.fit(settings, run, train, val, progress=False, **kwargs)


def fit_multitask(settings, data, workdir: Path, **kwargs):
    """`exvo_jax.tracks.multitask.training.fit` on `MultitaskData` in memory: (states, scaler, model)."""
    with open_run(workdir, settings, data_fingerprint([]), watch_fields=MULTITASK_WATCH) as run:
        return multitask.fit(settings, data, run, progress=False, **kwargs)
