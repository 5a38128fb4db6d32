"""Inputs of the multitask trainer: features and labels per split, with the task spec of the dataset.

Two sources: the HUME-VB release layout (emotion intensities, age, country) and the Deeply
nonverbal-vocalisation corpus (vocalisation type, age, sex) with its speaker-disjoint split.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np
from jax.experimental import multihost_utils

from exvo_jax.data import nonverbal
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, label_arrays, read_release
from exvo_jax.data.schema import COUNTRIES, EMOTIONS, SPLITS
from exvo_jax.features.boaw import boaw_size
from exvo_jax.features.cache import AudioItem
from exvo_jax.features.corpus import functionals, has_official, release_features
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import TaskSpec, exvo_tasks
from exvo_jax.tracks.multitask.config import MultitaskSettings


@dataclasses.dataclass(frozen=True)
class SplitData:
    """One split: clip ids, raw (unscaled) features [N, D] and labels per task (None where blinded)."""

    ids: tuple[str, ...]
    features: np.ndarray  # [N, D]
    labels: dict[str, np.ndarray] | None  # task -> [N] or [N, k]

    def __len__(self) -> int:
        return len(self.ids)


@dataclasses.dataclass(frozen=True)
class MultitaskData:
    """Train / validation (/ test) splits and the heads to train."""

    tasks: tuple[TaskSpec, ...]
    train: SplitData
    val: SplitData
    test: SplitData | None
    column_names: dict[str, tuple[str, ...]]  # task -> names of its columns (intensity) or classes

    @property
    def dim(self) -> int:
        return int(self.train.features.shape[1])


def select_tasks(tasks: tuple[TaskSpec, ...], names) -> tuple[TaskSpec, ...]:
    """The heads named in `names` (all when empty; the settings hold only the dataset's), in dataset order."""
    return tuple(t for t in tasks if not names or t.name in names)


def run_cache_dir(workdir: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The feature cache of a training run: `cache_dir` if given, else the one its config.json names."""
    if cache_dir:
        return Path(cache_dir)
    saved = Path(workdir) / "config.json"
    named = json.loads(saved.read_text()).get("cache_dir", "") if saved.exists() else ""
    return Path(named) if named else Path(workdir) / "feature_cache"


def _exvo_labels(clips) -> dict[str, np.ndarray]:
    arrays = label_arrays(clips)
    return {"emotion": arrays["emotions"], "age": arrays["age"], "country": arrays["country"]}


def load_exvo(settings: MultitaskSettings, workdir: str | Path, progress: bool = True) -> MultitaskData:
    corpus = read_release(settings.data_dir, test_labels=settings.test_labels)
    cache = run_cache_dir(workdir, settings.cache_dir)
    features = release_features(corpus, settings.feature_set, cache, workers=settings.workers or None,
                                recompute_features=settings.recompute_features, progress=progress)
    splits = {}
    for name in ("Train", "Val", "Test"):
        clips = corpus.split(name)
        labels = _exvo_labels(clips) if clips and all(c.labelled for c in clips) else None
        splits[name] = SplitData(tuple(c.file_id for c in clips), features[name], labels) if clips else None
    for name in ("Train", "Val"):
        if splits[name] is None or splits[name].labels is None:
            raise DataError(f"{settings.data_dir}: the {name} split is empty or unlabelled")
    return MultitaskData(
        tasks=select_tasks(exvo_tasks(), settings.tasks),
        train=splits["Train"],
        val=splits["Val"],
        test=splits["Test"],
        column_names={"emotion": EMOTIONS, "country": COUNTRIES},
    )


def nonverbal_tasks() -> tuple[TaskSpec, ...]:
    return (
        TaskSpec("type", "classification", nonverbal.NUM_VOCAL_TYPES),
        TaskSpec("age", "regression", 1),
        TaskSpec("sex", "classification", len(nonverbal.SEXES)),
    )


def load_nonverbal(settings: MultitaskSettings, workdir: str | Path, progress: bool = True) -> MultitaskData:
    fold = None if settings.fold < 0 else settings.fold
    parts = nonverbal.split_corpus(nonverbal.read_corpus(settings.data_dir), fold=fold, folds=settings.folds)
    cache = run_cache_dir(workdir, settings.cache_dir)
    splits = {}
    for name, clips in parts.items():
        items = [AudioItem(c.file_id, c.path) for c in clips]
        features = functionals(items, settings.feature_set, cache, pack=f"nonverbal-{name}",
                               workers=settings.workers or None, progress=progress)
        labels = {
            "type": np.array([c.vocal_type for c in clips], np.int32),
            "age": np.array([c.age for c in clips], np.float32),
            "sex": np.array([c.sex for c in clips], np.int32),
        }
        splits[name] = SplitData(tuple(c.file_id for c in clips), features, labels)
    return MultitaskData(
        tasks=select_tasks(nonverbal_tasks(), settings.tasks),
        train=splits["train"],
        val=splits["validation"],
        test=splits["test"],
        column_names={"type": nonverbal.VOCAL_TYPES, "sex": nonverbal.SEXES},
    )


def check_finite(data: MultitaskData, source: str | Path) -> None:
    """A `DataError` naming the clips (up to five) of any split whose features or labels are NaN or infinite."""
    for name, split in (("Train", data.train), ("Val", data.val), ("Test", data.test)):
        if split is None:
            continue
        bad = ~np.isfinite(split.features).all(1)
        for values in (split.labels or {}).values():
            bad |= ~np.isfinite(values.reshape(len(split), -1)).all(1)
        if bad.any():
            ids = [split.ids[i] for i in np.flatnonzero(bad)]
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            raise DataError(f"{source}: {name} clip(s) {shown}: features or labels are NaN or infinite")


def load_data(settings: MultitaskSettings, workdir: str | Path, progress: bool = True) -> MultitaskData:
    """Features and labels for `settings.dataset` ("exvo" or "nonverbal") from `settings.data_dir`; non-finite
    features or labels are a `DataError` naming the clips (a NaN input would make every loss NaN)."""
    if not settings.data_dir:
        raise DataError("data_dir is empty: point it at the corpus folder (--data-dir)")
    loaders = {"exvo": load_exvo, "nonverbal": load_nonverbal}
    data = loaders[settings.dataset](settings, workdir, progress)
    check_finite(data, settings.data_dir)
    return data


def input_files(settings: MultitaskSettings) -> list[Path]:
    """The corpus files the run's features and labels come from (what `load_data` reads), for the fingerprint."""
    root = Path(settings.data_dir)
    if settings.dataset == "nonverbal":
        return [clip.path for clip in nonverbal.read_corpus(root)]
    corpus = read_release(root, test_labels=settings.test_labels)
    files = [root / DATA_INFO] + ([root / TEST_LABELS] if settings.test_labels else [])
    splits = [clips for name in SPLITS if (clips := corpus.split(name))]
    shipped = [has_official(corpus, clips, settings.feature_set) and not settings.recompute_features for clips in splits]
    if boaw_size(settings.feature_set) is not None and not all(shipped):
        shipped = [False] * len(splits)  # the codebook is fit on Train audio: every split is computed from audio
    for clips, official in zip(splits, shipped):
        files += [corpus.feature_path(settings.feature_set, c.file_id) if official else c.wav_path for c in clips]
    return files


def load_once(settings: MultitaskSettings, workdir: str | Path, progress: bool = True) -> MultitaskData:
    """`load_data` on process 0 first (it extracts and caches the features), then on the others (cache hits)."""
    if jax.process_count() == 1:
        return load_data(settings, workdir, progress)
    if jax.process_index() == 0:
        try:
            data = load_data(settings, workdir, progress)
        except Exception:
            multihost_utils.broadcast_one_to_all(np.int32(0))  # the other processes fail with it
            raise
    loaded = multihost_utils.broadcast_one_to_all(np.int32(1))
    if jax.process_index() == 0:
        return data
    if not loaded:
        raise DataError(f"{settings.data_dir}: process 0 could not load the data (its error says why)")
    return load_data(settings, workdir, progress=False)


def target_scaling(settings: MultitaskSettings, data: MultitaskData) -> dict[str, tuple[float, float]]:
    """{regression task: (mean, std)} on Train where `settings.scale_targets`, else {} (targets in their units)."""
    if not settings.scale_targets:
        return {}
    out = {}
    for task in data.tasks:
        if task.kind == "regression":
            y = np.asarray(data.train.labels[task.name], np.float64)
            out[task.name] = (float(y.mean()), float(y.std()) or 1.0)
    return out


def class_weights(settings: MultitaskSettings, data: MultitaskData) -> dict[str, tuple[float, ...]]:
    """{classification task: per-class loss weights} where `settings.balance_classes`, else {} (plain mean).

    `n / (classes * n_c)` on Train (0 for a class absent there), as scikit-learn's "balanced": every class
    weighs as much in the loss, which is what UAR rewards.
    """
    if not settings.balance_classes:
        return {}
    out = {}
    for task in data.tasks:
        if task.kind == "classification":
            counts = np.bincount(np.asarray(data.train.labels[task.name], np.int64), minlength=task.size).astype(float)
            present = counts > 0
            weights = np.where(present, counts.sum() / (present.sum() * np.maximum(counts, 1)), 0.0)
            out[task.name] = tuple(float(w) for w in weights)
    return out


def scaled_split(split: SplitData, scaler: StandardScaler, tasks,
                 targets: dict[str, tuple[float, float]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Standardised features [N, D] and labels (regression targets scaled where `targets` says), on host."""
    labels = {}
    for t in tasks:
        mean, std = targets.get(t.name, (0.0, 1.0))
        y = split.labels[t.name]
        labels[t.name] = np.asarray((y - mean) / std if t.name in targets else y)
    return scaler.transform(split.features), labels
