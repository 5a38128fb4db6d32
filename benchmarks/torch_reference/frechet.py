"""Reference Frechet distance: the pytorch-fid formula (numpy statistics, `scipy.linalg.sqrtm`).

pytorch-fid computes the statistics with `np.mean` / `np.cov(rowvar=False)` and the distance with a
non-symmetric matrix square root of S1 S2, retrying with `eps` added to the diagonals when the
product is singular, and dropping a negligible imaginary part.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def reference_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] of features [N, D], as pytorch-fid computes them."""
    return np.mean(features, axis=0), np.cov(features, rowvar=False)


def reference_frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """|mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr sqrtm(S1 S2), with `scipy.linalg.sqrtm`."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
