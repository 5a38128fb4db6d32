"""Frechet distance between feature Gaussians (the FID of the generation track), and their statistics files.

    d^2 = |mu1 - mu2|^2 + Tr(S1) + Tr(S2) - 2 Tr sqrtm(S1 S2)

`Tr sqrtm(S1 S2)` is computed without a non-symmetric matrix square root: for any factor S1 = F F^T,
S1 S2 is similar to the symmetric positive semi-definite F^T S2 F, so Tr sqrtm(S1 S2) =
sum_i sqrt(lambda_i(F^T S2 F)). F is the Cholesky factor of S1 when it exists (fast), otherwise the
symmetric square root S1^(1/2) from an eigendecomposition with negative eigenvalues clipped at 0, so
singular covariances (fewer samples than dimensions), where `scipy.linalg.sqrtm` returns complex
noise, are handled. The result is clipped at 0 against rounding.

Precision: `frechet_distance` computes in its inputs' dtype and is jit-compatible; the trace terms
cancel, so for reference-grade values use float64: `frechet_distance_f64` (and `gaussian_stats` on
float64 features) runs under `jax.enable_x64(True)`.

Statistics files hold `mu` [D] and the unbiased covariance `sigma` [D, D]: `.npz` (keys `mu`,
`sigma`) or a pickled dict `{"mu": ..., "sigma": ...}` (`.pkl` / `.pickle`, the form distributed with
the official evaluator). Pickles are read with an unpickler that only admits numpy arrays and dicts.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.data.errors import DataError

PICKLE_SUFFIXES = (".pkl", ".pickle")


class GaussianStats(NamedTuple):
    """Mean [D] and unbiased covariance [D, D] of a feature set."""

    mu: jnp.ndarray
    sigma: jnp.ndarray


def gaussian_stats(features, mask=None) -> GaussianStats:
    """Mean and unbiased (1/(N-1)) covariance of features [N, D] over the valid rows."""
    features = jnp.asarray(features)
    features = features.astype(jnp.result_type(features.dtype, jnp.float32))
    w = jnp.ones(features.shape[0], features.dtype) if mask is None else jnp.asarray(mask).astype(features.dtype)
    features = jnp.where(w[:, None] > 0, features, 0.0)  # padding may hold anything, NaN included
    n = w.sum()
    mu = (w[:, None] * features).sum(axis=0) / n  # [D]
    centred = (features - mu) * jnp.sqrt(w)[:, None]  # [N, D]
    sigma = centred.T @ centred / (n - 1.0)  # [D, D]
    return GaussianStats(mu, sigma)


def _symmetric(m: jnp.ndarray) -> jnp.ndarray:
    return (m + m.T) / 2.0


def _trace_sqrt_similar(factor: jnp.ndarray, sigma2: jnp.ndarray) -> jnp.ndarray:
    """sum_i sqrt(lambda_i(F^T S2 F)) for a factor F of S1 = F F^T (F^T S2 F is PSD and similar to S1 S2)."""
    inner = _symmetric(factor.T @ sigma2 @ factor)  # [D, D], PSD
    # For a PSD matrix the singular values are the eigenvalues; LAPACK computes them without vectors.
    return jnp.sqrt(jnp.linalg.svd(inner, compute_uv=False)).sum()


def _symmetric_root(sigma: jnp.ndarray) -> jnp.ndarray:
    eigval, eigvec = jnp.linalg.eigh(_symmetric(sigma))
    return (eigvec * jnp.sqrt(jnp.clip(eigval, 0.0))) @ eigvec.T  # [D, D], eigenvalues clipped at 0


def trace_sqrt_product(sigma1: jnp.ndarray, sigma2: jnp.ndarray) -> jnp.ndarray:
    """Tr sqrtm(S1 S2) for symmetric PSD S1, S2 (see module docstring).

    Fast route: the Cholesky factor L of S1 (S1 = L L^T). Where S1 is singular the factorisation fails
    (NaN) and the symmetric square root from an eigendecomposition, which clips negative eigenvalues
    at 0, is used instead; both routes compute the same similar matrix's spectrum.
    """
    chol = jnp.linalg.cholesky(_symmetric(sigma1))
    return jax.lax.cond(
        jnp.all(jnp.isfinite(chol)),
        lambda: _trace_sqrt_similar(chol, sigma2),
        lambda: _trace_sqrt_similar(_symmetric_root(sigma1), sigma2),
    )


@jax.jit
def frechet_distance(mu1, sigma1, mu2, sigma2) -> jnp.ndarray:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in the inputs' dtype."""
    diff = mu1 - mu2
    distance = diff @ diff + jnp.trace(sigma1) + jnp.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return jnp.maximum(distance, 0.0)


def frechet_distance_f64(mu1, sigma1, mu2, sigma2) -> float:
    """`frechet_distance` in float64 (under `jax.enable_x64`), as a Python float."""
    with jax.enable_x64(True):
        args = [jnp.asarray(np.asarray(a, np.float64)) for a in (mu1, sigma1, mu2, sigma2)]
        return float(frechet_distance(*args))


def _check_stats(path: Path, mu, sigma) -> GaussianStats:
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise DataError(f"{path}: expected mu [D] and sigma [D, D], got {mu.shape} and {sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise DataError(f"{path}: NaN or infinite statistics")
    return GaussianStats(mu, sigma)


class _ArrayUnpickler(pickle.Unpickler):
    """Admits only what a pickled dict of numpy arrays needs."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("collections", "OrderedDict"),
        ("_codecs", "encode"),  # bytes in protocol-2 pickles
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def load_stats(path: str | Path) -> GaussianStats:
    """Reads `mu`, `sigma` from `.npz` or a pickled `{mu, sigma}` dict; `DataError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: statistics file is missing")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("mu", "sigma") if k not in data.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)} (found {', '.join(data.files) or 'none'})")
            return _check_stats(path, data["mu"], data["sigma"])
    if path.suffix in PICKLE_SUFFIXES:
        try:
            data = _ArrayUnpickler(io.BytesIO(path.read_bytes())).load()
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise DataError(f"{path}: not a pickled statistics dict ({err})") from None
        if not isinstance(data, dict) or not {"mu", "sigma"} <= set(data):
            raise DataError(f"{path}: expected a dict with keys 'mu' and 'sigma'")
        return _check_stats(path, data["mu"], data["sigma"])
    raise DataError(f"{path}: unknown statistics format (expected .npz, .pkl or .pickle)")


def save_stats(path: str | Path, stats: GaussianStats) -> None:
    """Writes statistics atomically as `.npz` or a pickled `{mu, sigma}` dict (chosen by suffix)."""
    path = Path(path)
    mu, sigma = np.asarray(stats.mu), np.asarray(stats.sigma)
    if path.suffix == ".npz":
        with atomic_path(path) as tmp:
            with tmp.open("wb") as f:
                np.savez(f, mu=mu, sigma=sigma)
    elif path.suffix in PICKLE_SUFFIXES:
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps({"mu": mu, "sigma": sigma}))
    else:
        raise ValueError(f"{path}: unknown statistics format (expected .npz, .pkl or .pickle)")
