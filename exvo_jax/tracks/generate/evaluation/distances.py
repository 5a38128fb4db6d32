"""One report of how far generated clips are from real ones in the classifier's space: FID, FD-infinity and KID.

`frechet_report(generated, reference)` takes generated features `[N, H]` and the reference as features
`[M, H]` or as statistics only (an official statistics file). The plain FID is the competition's number;
beside it FD-infinity (the FID extrapolated to infinitely many generated clips) and KID with its standard
error (`exvo_jax.metrics.small_sample`) compare fairly between sets of about 100 clips. KID needs the
reference's features, so it is None when only statistics are given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.metrics import GaussianStats, fd_infinity, frechet_distance_f64, kid, load_stats
from exvo_jax.tracks.generate.evaluation.features import load_classifier, wav_files
from exvo_jax.tracks.generate.evaluation.reference import features_stats, reference_features


def frechet_report(generated: np.ndarray, reference: np.ndarray | GaussianStats, *, seed: int = 0) -> dict:
    """`{"fid", "fd_infinity", "kid", "kid_se", "n_generated", "n_reference"}` (`n_reference` None for statistics)."""
    generated = np.asarray(generated, np.float64)
    ref_stats = reference if isinstance(reference, GaussianStats) else features_stats(reference)
    if np.shape(ref_stats.mu)[0] != generated.shape[1]:
        raise ValueError(f"generated features have {generated.shape[1]} dimensions, the reference "
                         f"{np.shape(ref_stats.mu)[0]}: they come from different classifiers")
    gen_stats = features_stats(generated)
    report = {
        "fid": frechet_distance_f64(gen_stats.mu, gen_stats.sigma, ref_stats.mu, ref_stats.sigma),
        "fd_infinity": fd_infinity(generated, ref_stats.mu, ref_stats.sigma, seed=seed)["fd_infinity"],
        "kid": None,
        "kid_se": None,
        "n_generated": len(generated),
        "n_reference": None,
    }
    if not isinstance(reference, GaussianStats):
        report.update(kid(generated, reference), n_reference=len(reference))
    return report


def fid_of_folder(generated: str | Path, classifier_dir: str | Path, *, reference: str | Path | None = None,
                  reference_stats: str | Path | None = None, data_dir: str | Path | None = None, split: str = "Train",
                  emotion: str | None = None, progress: bool = True) -> dict:
    """`frechet_report` of every wav under `generated` against one reference, in the classifier's space: a folder
    of real wavs, a statistics file, or the real clips of `emotion` in `split` of the release at `data_dir`."""
    if (data_dir is None) != (emotion is None):
        raise DataError("--emotion goes with --data-dir (the reference is that emotion's clips of --split)")
    classifier = load_classifier(classifier_dir)
    features, _ = classifier.file_features(wav_files(generated), progress=progress)
    if reference_stats:
        real = load_stats(reference_stats)
    elif reference:
        real, _ = classifier.file_features(wav_files(reference), progress=progress)
    else:
        real = reference_features(classifier, classifier_dir, data_dir, split, [emotion], progress=progress)[emotion]
    return {**frechet_report(features, real), "classifier_key": classifier.key}
