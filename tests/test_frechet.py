"""Frechet distance against the pytorch-fid formula (`scipy.linalg.sqrtm`), singular and adversarial statistics, statistics files."""

from __future__ import annotations

import os
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from benchmarks.torch_reference.frechet import reference_frechet_distance as scipy_frechet
from exvo_jax import metrics
from exvo_jax.data.errors import DataError
from exvo_jax.metrics.frechet import _symmetric_root, _trace_sqrt_similar, trace_sqrt_product

RNG = np.random.default_rng(0)


def _features(n: int, d: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    mixing = RNG.normal(size=(d, d)) / np.sqrt(d)
    return shift + scale * RNG.normal(size=(n, d)) @ mixing


def test_gaussian_stats_are_mean_and_unbiased_covariance():
    x = _features(50, 6)
    mu, sigma = metrics.gaussian_stats(x)
    np.testing.assert_allclose(mu, x.mean(0), atol=1e-5)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), atol=1e-5)
    padded = np.concatenate([x, np.full((4, 6), 1e3), np.full((3, 6), np.nan)])
    mu_m, sigma_m = metrics.gaussian_stats(padded, mask=np.arange(57) < 50)
    np.testing.assert_allclose(mu_m, mu, atol=1e-4)
    np.testing.assert_allclose(sigma_m, sigma, atol=1e-4)


DIM = 32  # one feature size throughout, so that each jitted function compiles once


@pytest.mark.parametrize(
    "shift,scale",
    [(0.3, 1.3), (1.0, 0.5), (0.0, 1.0), (1e3, 1.3)],
    ids=["shifted", "narrower", "same_distribution", "huge_mean_offset"],
)
def test_matches_scipy_sqrtm_formula(shift, scale):
    a, b = _features(600, DIM), _features(900, DIM, shift=shift, scale=scale)
    mu1, sigma1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, sigma2 = b.mean(0), np.cov(b, rowvar=False)
    expected = scipy_frechet(mu1, sigma1, mu2, sigma2)
    np.testing.assert_allclose(metrics.frechet_distance_f64(mu1, sigma1, mu2, sigma2), expected, rtol=1e-4)
    with jax.enable_x64(True):
        stats1, stats2 = metrics.gaussian_stats(a), metrics.gaussian_stats(b)
        np.testing.assert_allclose(metrics.frechet_distance(*stats1, *stats2), expected, rtol=1e-4)


def test_float32_is_close_for_well_conditioned_stats():
    a, b = _features(600, DIM), _features(900, DIM, shift=0.5)
    mu1, sigma1 = metrics.gaussian_stats(a.astype(np.float32))
    mu2, sigma2 = metrics.gaussian_stats(b.astype(np.float32))
    expected = scipy_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    np.testing.assert_allclose(metrics.frechet_distance(mu1, sigma1, mu2, sigma2), expected, rtol=1e-3)


def test_identical_statistics_give_zero():
    x = _features(200, DIM)
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    assert metrics.frechet_distance_f64(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_singular_covariances():
    # Fewer samples than dimensions: rank-deficient covariances, where sqrtm goes complex.
    a, b = _features(10, DIM), _features(12, DIM, shift=0.2)
    mu1, sigma1, mu2, sigma2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    value = metrics.frechet_distance_f64(mu1, sigma1, mu2, sigma2)
    assert np.isfinite(value) and value > 0
    np.testing.assert_allclose(value, scipy_frechet(mu1, sigma1, mu2, sigma2), rtol=1e-4)
    # Exactly zero covariances: the distance is the squared mean difference.
    zeros = np.zeros((DIM, DIM))
    assert metrics.frechet_distance_f64(mu1, zeros, mu2, zeros) == pytest.approx(float((mu1 - mu2) @ (mu1 - mu2)))
    # Diagonal case with a closed form: sum (sqrt(s1) - sqrt(s2))^2.
    s1, s2 = np.array([4.0, 0.0, 1.0]), np.array([1.0, 9.0, 0.0])
    assert metrics.frechet_distance_f64(np.zeros(3), np.diag(s1), np.zeros(3), np.diag(s2)) == pytest.approx(
        float(np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)))


@pytest.mark.parametrize("suffix", [".npz", ".pkl", ".pickle"])
def test_stats_round_trip(tmp_path, suffix):
    stats = metrics.GaussianStats(RNG.normal(size=5), np.cov(RNG.normal(size=(20, 5)), rowvar=False))
    path = tmp_path / f"stats{suffix}"
    metrics.save_stats(path, stats)
    loaded = metrics.load_stats(path)
    np.testing.assert_array_equal(loaded.mu, stats.mu)
    np.testing.assert_array_equal(loaded.sigma, stats.sigma)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # atomic write left no temporary file


def test_loads_evaluator_style_pickle(tmp_path):
    path = tmp_path / "real_stats.pkl"
    path.write_bytes(pickle.dumps({"mu": np.ones(3, np.float32), "sigma": np.eye(3, dtype=np.float32)}, protocol=2))
    loaded = metrics.load_stats(path)
    assert loaded.mu.shape == (3,) and loaded.sigma.shape == (3, 3)


def test_stats_file_errors(tmp_path):
    with pytest.raises(DataError, match="statistics file is missing"):
        metrics.load_stats(tmp_path / "absent.npz")
    np.savez(tmp_path / "no_sigma.npz", mu=np.zeros(3))
    with pytest.raises(DataError, match=r"no_sigma.npz: missing arrays sigma"):
        metrics.load_stats(tmp_path / "no_sigma.npz")
    np.savez(tmp_path / "shape.npz", mu=np.zeros(3), sigma=np.eye(4))
    with pytest.raises(DataError, match=r"shape.npz: expected mu \[D\] and sigma \[D, D\]"):
        metrics.load_stats(tmp_path / "shape.npz")
    np.savez(tmp_path / "nan.npz", mu=np.array([np.nan, 0.0]), sigma=np.eye(2))
    with pytest.raises(DataError, match="NaN or infinite statistics"):
        metrics.load_stats(tmp_path / "nan.npz")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(os.getcwd))
    with pytest.raises(DataError, match=r"evil.pkl: not a pickled statistics dict \(refusing to load"):
        metrics.load_stats(tmp_path / "evil.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(DataError, match="expected a dict with keys 'mu' and 'sigma'"):
        metrics.load_stats(tmp_path / "list.pkl")
    with pytest.raises(DataError, match="unknown statistics format"):
        metrics.load_stats(tmp_path / "stats.txt") if (tmp_path / "stats.txt").write_text("x") else None
    with pytest.raises(ValueError, match="unknown statistics format"):
        metrics.save_stats(tmp_path / "stats.json", metrics.GaussianStats(np.zeros(2), np.eye(2)))


def test_cholesky_and_symmetric_root_routes_agree():
    a, b = _features(600, DIM), _features(900, DIM, scale=0.7)
    with jax.enable_x64(True):
        sigma1, sigma2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        via_cholesky = trace_sqrt_product(sigma1, sigma2)
        via_root = _trace_sqrt_similar(_symmetric_root(sigma1), sigma2)
        np.testing.assert_allclose(via_cholesky, via_root, rtol=1e-9)
        singular = np.cov(a[:5], rowvar=False)  # rank 4: Cholesky fails, the eigendecomposition route answers
        assert not np.all(np.isfinite(jnp.linalg.cholesky(singular)))
        # Square roots of the ~0 eigenvalues of a rank-4 matrix carry ~1e-9 of rounding that varies with the
        # thread count: 1e-8 still separates the routes from any real disagreement.
        np.testing.assert_allclose(trace_sqrt_product(singular, sigma2),
                                   _trace_sqrt_similar(_symmetric_root(singular), sigma2), rtol=1e-8)
