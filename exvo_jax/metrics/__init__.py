"""Evaluation metrics of the three ExVo tracks as pure `jax.numpy` functions.

Regression (CCC in two forms, Pearson, MAE), classification (confusion matrix, UAR), competition
scores (S_MTL, HEEP, S_Gen), streaming sufficient statistics, the Frechet distance, and the distances
that hold at small sample sizes (FD-infinity, KID).
"""

from exvo_jax.metrics.classification import confusion_matrix, uar, uar_from_confusion
from exvo_jax.metrics.frechet import (
    GaussianStats,
    frechet_distance,
    frechet_distance_f64,
    gaussian_stats,
    load_stats,
    save_stats,
)
from exvo_jax.metrics.regression import CCC_VARIANTS, ccc, mae, mean_ccc, pearson
from exvo_jax.metrics.small_sample import fd_infinity, kid
from exvo_jax.metrics.scores import heep, heep_per_emotion, mean_s_gen, s_gen, s_mtl
from exvo_jax.metrics.streaming import ConfusionStats, RegressionStats

__all__ = [
    "CCC_VARIANTS",
    "ConfusionStats",
    "GaussianStats",
    "RegressionStats",
    "ccc",
    "confusion_matrix",
    "fd_infinity",
    "frechet_distance",
    "frechet_distance_f64",
    "gaussian_stats",
    "heep",
    "heep_per_emotion",
    "kid",
    "load_stats",
    "mae",
    "mean_ccc",
    "mean_s_gen",
    "pearson",
    "s_gen",
    "s_mtl",
    "save_stats",
    "uar",
    "uar_from_confusion",
]
