"""Predictions of a trained multitask model: the official submission, validation predictions, any audio folder."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exvo_jax.atomic import write_text
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import read_release
from exvo_jax.features.cache import AudioItem
from exvo_jax.features.corpus import deepspectrum_features, functionals, release_features
from exvo_jax.features.opensmile_functionals import FUNCTIONAL_SETS
from exvo_jax.submission import MULTITASK, submission_filename, write_multitask_submission
from exvo_jax.tracks.multitask.bundle import ModelBundle, load_bundle
from exvo_jax.tracks.multitask.data import run_cache_dir
from exvo_jax.tracks.multitask.scoring import as_labels

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def _write_exvo_csv(path: Path, ids: Sequence[str], outputs: Mapping[str, np.ndarray]) -> Path:
    return write_multitask_submission(path, ids, outputs["country"], outputs["age"][:, 0], outputs["emotion"])


def predict(workdir: str | Path, out: str | Path, *, data_dir: str | Path | None = None,
            audio_dir: str | Path | None = None, team: str = "exvo-jax", number: int = 1,
            progress: bool = True) -> dict[str, Path]:
    """The trained model's predictions: with `data_dir` (a release) the Test submission and Val predictions in
    the folder `out` (`predict_release`), with `audio_dir` (any folder of audio) one CSV `out` ("folder")."""
    if (data_dir is None) == (audio_dir is None):
        raise DataError("predict needs exactly one of a release folder (--data-dir) or an audio folder (--audio-dir)")
    if audio_dir is not None:
        return {"folder": predict_folder(workdir, audio_dir, out)}
    return predict_release(workdir, data_dir, out, team=team, number=number, progress=progress)


def predict_release(workdir: str | Path, data_dir: str | Path, out_dir: str | Path, *, team: str = "exvo-jax",
                    number: int = 1, cache_dir: str | Path | None = None, progress: bool = True) -> dict[str, Path]:
    """Writes `ExVo-Multi_<team>_<n>.csv` for the Test split and `val_predictions.csv` (same columns) for Val."""
    bundle = load_bundle(workdir)
    if bundle.dataset != "exvo" or {t.name for t in bundle.model.tasks} != {"emotion", "age", "country"}:
        raise DataError(f"{workdir}: the model was not trained on all three HUME-VB tasks; no submission possible")
    corpus = read_release(data_dir)
    cache = run_cache_dir(workdir, cache_dir)
    features = release_features(corpus, bundle.feature_set, cache, recompute_features=bundle.recompute_features,
                                progress=progress)
    written = {}
    for split, name in (("Test", submission_filename(MULTITASK, team, number)), ("Val", "val_predictions.csv")):
        if split in features:
            ids = [c.file_id for c in corpus.split(split)]
            written[split] = _write_exvo_csv(Path(out_dir) / name, ids, bundle.predict(features[split]))
    return written


def audio_items(folder: str | Path) -> list[AudioItem]:
    """Every audio file under `folder` (recursively, sorted), identified by its relative path without suffix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: audio folder is missing")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not paths:
        raise DataError(f"{folder}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found")
    return [AudioItem(p.relative_to(folder).with_suffix("").as_posix(), p) for p in paths]


def _generic_rows(bundle: ModelBundle, outputs: Mapping[str, np.ndarray]) -> tuple[list[str], list[list[str]]]:
    """Column names and cells: intensity columns by name, regression values, classification class names."""
    header, columns = [], []
    for task in bundle.model.tasks:
        values = as_labels(task, outputs[task.name])
        names = bundle.column_names.get(task.name)
        if task.kind == "intensity":
            header += list(names or [f"{task.name}_{i}" for i in range(task.size)])
            columns += [[repr(float(v)) for v in values[:, i]] for i in range(task.size)]
        elif task.kind == "regression":
            header.append(task.name)
            columns.append([repr(float(v)) for v in values.reshape(len(values), -1)[:, 0]])
        else:
            header.append(task.name)
            columns.append([names[int(v)] if names else str(int(v)) for v in values])
    return header, [list(row) for row in zip(*columns)]


def predict_folder(workdir: str | Path, folder: str | Path, out_csv: str | Path, *,
                   cache_dir: str | Path | None = None, workers: int | None = None) -> Path:
    """Extracts features of every audio file in `folder` and writes one row of predictions per file.

    A file that cannot be featurised (unreadable, silent, truncated, too short for openSMILE) is a
    `DataError` naming it; nothing is written then.
    """
    bundle = load_bundle(workdir)
    if bundle.feature_set not in (*FUNCTIONAL_SETS, "DeepSpectrum"):
        raise DataError(f"{workdir}: features {bundle.feature_set!r} cannot be computed for a folder of audio "
                        f"(supported: {', '.join(FUNCTIONAL_SETS)}, DeepSpectrum)")
    items = audio_items(folder)
    cache = run_cache_dir(workdir, cache_dir)
    if bundle.feature_set == "DeepSpectrum":
        features = deepspectrum_features(items, cache)
    else:
        features = functionals(items, bundle.feature_set, cache, workers=workers)
    outputs = bundle.predict(features)
    ids = [item.file_id for item in items]
    if bundle.dataset == "exvo":
        return _write_exvo_csv(Path(out_csv), ids, outputs)
    header, rows = _generic_rows(bundle, outputs)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", *header])
    writer.writerows([[i, *row] for i, row in zip(ids, rows)])
    write_text(out_csv, buffer.getvalue())
    return Path(out_csv)
