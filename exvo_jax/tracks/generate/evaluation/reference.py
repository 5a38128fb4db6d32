"""Real clips of one emotion in the classifier's feature space, with their statistics files, cached per classifier.

A clip is a sample of emotion e when its intensity for e is exactly 1.0 (the competition's rule). For each
(split, emotion) the features `[N, H]` and the statistics in the competition's format - a pickled dict
`{"mu": (H,), "sigma": (H, H)}` of float64, the unbiased covariance - are written under

    <classifier workdir>/fid_stats/<classifier key>/<data digest>/<Split>_<Emotion>.pkl (and .npy: features)

The classifier key is the digest of its exported weights and the data digest that of the clips' files
(path, size, modification time), so statistics are reused only for the same classifier on the same clips:
a retrained classifier, or a changed corpus, computes them afresh. Official statistics files load with
`exvo_jax.metrics.load_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, Clip, read_release
from exvo_jax.data.schema import EMOTIONS, SPLITS
from exvo_jax.tracks.generate.evaluation.features import Classifier
from exvo_jax.metrics import GaussianStats, gaussian_stats, save_stats
from exvo_jax.parallel import is_main_process
from exvo_jax.run import data_fingerprint

STATS_DIR = "fid_stats"
KEY_CHARS = 16


def emotion_clips(data_dir: str | Path, split: str, emotions: Sequence[str] = EMOTIONS) -> dict[str, list[Clip]]:
    """The clips of `split` that are samples of each emotion (intensity exactly 1.0)."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise DataError(f"unknown emotion {unknown[0]!r} (expected one of {', '.join(EMOTIONS)})")
    root = Path(data_dir)
    labelled = [c for c in read_release(root, test_labels=split == "Test" and (root / TEST_LABELS).exists())
                .split(split) if c.emotions is not None]
    if not labelled:
        raise DataError(f"{root / DATA_INFO}: no labelled {split} clips")
    return {e: [c for c in labelled if c.emotions[EMOTIONS.index(e)] == 1.0] for e in emotions}


def stats_folder(classifier_dir: str | Path, classifier: Classifier, clips: Sequence[Clip]) -> Path:
    digest = data_fingerprint([c.wav_path for c in clips]).digest
    return Path(classifier_dir) / STATS_DIR / classifier.key[:KEY_CHARS] / digest[:KEY_CHARS]


def features_stats(features: np.ndarray) -> GaussianStats:
    """Mean `[H]` and unbiased covariance `[H, H]` in float64 (the competition's statistics)."""
    if len(features) < 2:
        raise DataError(f"statistics need at least 2 clips, got {len(features)}")
    with jax.enable_x64(True):
        stats = gaussian_stats(jnp.asarray(features, jnp.float64))
    return GaussianStats(np.asarray(stats.mu), np.asarray(stats.sigma))


def reference_features(classifier: Classifier, classifier_dir: str | Path, data_dir: str | Path, split: str,
                       emotions: Sequence[str] = EMOTIONS, progress: bool = False) -> dict[str, np.ndarray]:
    """Features `[N_e, H]` of each emotion's real clips of `split`, from the cache or computed in one pass.

    Computed sets are written to the cache with their statistics files (see the module docstring).
    """
    sets = emotion_clips(data_dir, split, emotions)
    empty = [e for e, clips in sets.items() if not clips]
    if empty:
        raise DataError(f"{Path(data_dir) / DATA_INFO}: no {split} clip has intensity 1.0 for {', '.join(empty)}")
    paths = {e: stats_folder(classifier_dir, classifier, clips) / f"{split}_{e}" for e, clips in sets.items()}
    cached = {e: np.load(p.with_suffix(".npy")) for e, p in paths.items() if p.with_suffix(".npy").exists()}
    missing = [e for e in sets if e not in cached]
    if missing:
        clips = list({c.file_id: c for e in missing for c in sets[e]}.values())
        features, _ = classifier.file_features([c.wav_path for c in clips], progress=progress)
        row = {c.file_id: i for i, c in enumerate(clips)}
        for e in missing:
            cached[e] = features[[row[c.file_id] for c in sets[e]]]
            if is_main_process():
                write_reference(paths[e], cached[e])
    return {e: cached[e] for e in sets}


def write_reference(stem: Path, features: np.ndarray) -> None:
    """`<stem>.npy` (features) and `<stem>.pkl` (competition statistics), atomically."""
    stats = features_stats(features) if len(features) > 1 else None
    with atomic_path(stem.with_suffix(".npy")) as tmp:
        with tmp.open("wb") as f:
            np.save(f, features)
    if stats is not None:
        save_stats(stem.with_suffix(".pkl"), stats)
