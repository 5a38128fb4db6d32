"""A cheap, fixed feature space for watching a mel GAN learn: per-band level and spread of each log-mel.

Each clip's log-mel `[n_mels, frames]` becomes `concat(mean over frames, std over frames)`, a `2 n_mels`
vector that needs no trained network; the Frechet distance between the Gaussians of two such sets says
how far generated clips are from real ones in spectral envelope and its variability. It is no substitute
for the track's classifier-based FID, but it is deterministic, comparable across runs of one geometry and
fast enough to log during training and to test on.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.metrics import GaussianStats, frechet_distance_f64, gaussian_stats

ROWS = 256  # feature rows are padded to a multiple of this


def band_features(mels) -> np.ndarray:
    """`[N, n_mels, frames]` log-mels -> `[N, 2 n_mels]` float64: per-band mean, then per-band std over frames."""
    mels = np.asarray(mels, np.float64)
    if mels.ndim != 3:
        raise ValueError(f"expected log-mels [N, n_mels, frames], got shape {mels.shape}")
    return np.concatenate([mels.mean(axis=2), mels.std(axis=2)], axis=1)


def band_frechet(generated, real) -> float:
    """Frechet distance between the band features of two sets of log-mels (each with at least 2 clips)."""
    a, b = band_stats(generated), band_stats(real)
    return frechet_distance_f64(a.mu, a.sigma, b.mu, b.sigma)


def band_frechet_matrix(generated: Mapping[str, np.ndarray], real: Mapping[str, np.ndarray]) -> np.ndarray:
    """`[G, R]` distances: row i = generated set i (in mapping order) against each real set."""
    fg = [band_stats(m) for m in generated.values()]
    fr = [band_stats(m) for m in real.values()]
    return np.array([[frechet_distance_f64(a.mu, a.sigma, b.mu, b.sigma) for b in fr] for a in fg])


def band_stats(mels) -> GaussianStats:
    """Mean and unbiased covariance (float64) of the band features of `[N, n_mels, frames]` log-mels.

    The rows are padded to a multiple of `ROWS` and masked, so sets of different sizes share one compiled
    `gaussian_stats`.
    """
    features = band_features(mels)
    padded = np.zeros((-(-len(features) // ROWS) * ROWS, features.shape[1]))
    padded[:len(features)] = features
    with jax.enable_x64(True):
        stats = _stats(jnp.asarray(padded), jnp.arange(len(padded)) < len(features))
    return GaussianStats(np.asarray(stats.mu), np.asarray(stats.sigma))


_stats = jax.jit(gaussian_stats)
