"""Metrics against independent implementations (audmetric, scikit-learn, scipy) on random and adversarial data."""

from __future__ import annotations

import audmetric
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import recall_score

from exvo_jax import metrics
from exvo_jax.metrics.regression import moments
from exvo_jax.metrics.scores import reported_s_mtl

RNG = np.random.default_rng(0)


def reference_ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Multitask-reference form written out in numpy: variances 1/(N-1), covariance 1/N."""
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / (x.var(ddof=1) + y.var(ddof=1) + (x.mean() - y.mean()) ** 2)


def _pairs():
    n = 200
    truth = RNG.random(n)
    yield "random", truth, np.clip(truth + 0.3 * RNG.normal(size=n), 0, 1)
    yield "anticorrelated", truth, 1 - truth + 0.05 * RNG.normal(size=n)
    yield "n2", np.array([0.1, 0.9]), np.array([0.4, 0.3])
    offset = 1e5 + RNG.random(n)
    yield "huge_offset", offset, offset + RNG.normal(size=n)
    yield "constant_prediction", truth, np.full(n, 0.5)
    yield "biased", truth, truth + 3.0


@pytest.mark.parametrize("name,truth,pred", list(_pairs()), ids=[p[0] for p in _pairs()])
def test_ccc_population_matches_audmetric(name, truth, pred):
    truth32, pred32 = truth.astype(np.float32), pred.astype(np.float32)
    expected = audmetric.concordance_cc(truth32.astype(np.float64), pred32.astype(np.float64))
    np.testing.assert_allclose(metrics.ccc(truth32, pred32), expected, atol=1e-5)


@pytest.mark.parametrize("name,truth,pred", list(_pairs()), ids=[p[0] for p in _pairs()])
def test_ccc_reference_form(name, truth, pred):
    truth32, pred32 = truth.astype(np.float32), pred.astype(np.float32)
    expected = reference_ccc(truth32.astype(np.float64), pred32.astype(np.float64))
    np.testing.assert_allclose(metrics.ccc(truth32, pred32, variant="reference"), expected, atol=1e-5)


def test_reference_form_differs_from_population_form():
    truth, pred = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0])
    assert float(metrics.ccc(truth, pred)) == pytest.approx(2 / 3, abs=1e-6)  # audmetric's docstring example
    assert float(metrics.ccc(truth, pred, variant="reference")) == pytest.approx(reference_ccc(truth, pred), abs=1e-6)
    assert float(metrics.ccc(truth, pred, variant="reference")) < float(metrics.ccc(truth, pred))


def test_ccc_per_column_mean_and_mask():
    truth = RNG.random((64, 10)).astype(np.float32)
    pred = np.clip(truth + 0.2 * RNG.normal(size=truth.shape), 0, 1).astype(np.float32)
    mask = np.arange(64) < 50
    per_column = metrics.ccc(truth, pred, mask=mask)
    expected = [audmetric.concordance_cc(truth[:50, k], pred[:50, k]) for k in range(10)]
    assert per_column.shape == (10,)
    np.testing.assert_allclose(per_column, expected, atol=1e-5)
    np.testing.assert_allclose(metrics.mean_ccc(truth, pred, mask=mask), np.mean(expected), atol=1e-5)
    garbage = pred.copy()
    garbage[50:55], garbage[55:] = 1e6, np.nan  # padded rows must not count
    np.testing.assert_allclose(metrics.ccc(truth, garbage, mask=mask), per_column, atol=1e-6)


def test_ccc_edge_rules():
    const = np.full(5, 0.3, np.float32)
    assert float(metrics.ccc(const, const)) == 1.0  # both constant and equal: perfect agreement
    assert float(metrics.ccc(const, const + 0.2)) == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(metrics.ccc(np.array([0.2]), np.array([0.4]), variant="reference"))
    assert np.isnan(metrics.ccc(np.array([0.2, 0.5]), np.array([0.4, 0.1]), mask=np.zeros(2)))
    with pytest.raises(ValueError, match="unknown CCC variant 'sample'"):
        metrics.ccc(const, const, variant="sample")
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.ccc(np.zeros(3), np.zeros(4))


def test_ccc_is_jittable():
    truth, pred = RNG.random(30), RNG.random(30)
    jitted = jax.jit(metrics.ccc, static_argnames="variant")
    np.testing.assert_allclose(jitted(truth, pred, variant="reference"), metrics.ccc(truth, pred, variant="reference"), atol=1e-6)


@pytest.mark.parametrize("name,truth,pred", list(_pairs())[:4], ids=[p[0] for p in _pairs()][:4])
def test_pearson_matches_scipy(name, truth, pred):
    truth32, pred32 = truth.astype(np.float32), pred.astype(np.float32)
    expected = stats.pearsonr(truth32.astype(np.float64), pred32.astype(np.float64)).statistic
    np.testing.assert_allclose(metrics.pearson(truth32, pred32), expected, atol=1e-5)


def test_pearson_of_constant_is_nan():
    assert np.isnan(metrics.pearson(np.ones(4), np.arange(4.0)))


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_mae_matches_audmetric(offset):
    truth = (offset + 20 + 20 * RNG.random(100)).astype(np.float32)
    pred = (truth + 5 * RNG.normal(size=100)).astype(np.float32)
    expected = audmetric.mean_absolute_error(truth.astype(np.float64), pred.astype(np.float64))
    np.testing.assert_allclose(metrics.mae(truth, pred), expected, rtol=1e-5)
    np.testing.assert_allclose(metrics.mae(truth, pred, mask=np.arange(100) < 10), np.mean(np.abs(truth - pred)[:10]), rtol=1e-5)
    assert np.isnan(metrics.mae(truth, pred, mask=np.zeros(100)))


def test_confusion_matrix_and_uar_match_sklearn_and_audmetric():
    labels = RNG.integers(0, 4, 300)
    pred = np.where(RNG.random(300) < 0.6, labels, RNG.integers(0, 4, 300))
    np.testing.assert_array_equal(metrics.confusion_matrix(labels, pred, 4), sk_confusion_matrix(labels, pred, labels=range(4)))
    expected = recall_score(labels, pred, average="macro")
    np.testing.assert_allclose(metrics.uar(labels, pred, 4), expected, atol=1e-6)
    np.testing.assert_allclose(metrics.uar(labels, pred, 4), audmetric.unweighted_average_recall(labels, pred), atol=1e-6)


def test_uar_from_scores_masks_and_absent_classes():
    labels = np.array([0, 0, 1, 1, 1, 3, -1])
    pred = np.array([0, 1, 1, 1, 0, 2, 0])
    mask = np.array([1, 1, 1, 1, 1, 1, 0])
    logits = jax.nn.one_hot(pred, 4) * 5.0
    # Class 2 never occurs in the labels, so it has no recall and is left out (sklearn with labels=present).
    expected = recall_score(labels[:6], pred[:6], labels=[0, 1, 3], average="macro")
    np.testing.assert_allclose(metrics.uar(labels, logits, 4, mask=mask), expected, atol=1e-6)
    np.testing.assert_allclose(metrics.uar(labels, pred, 4, mask=mask), (0.5 + 2 / 3 + 0.0) / 3, atol=1e-6)
    assert np.isnan(metrics.uar(labels, pred, 4, mask=np.zeros(7)))


@pytest.mark.parametrize("terms", [(0.3, 0.5, 1 / 4.0), (0.9, 0.99, 1 / 0.1), (0.01, 0.4, 1 / 20.0)])
def test_s_mtl_matches_scipy_hmean(terms):
    ccc, uar, inverse_mae = terms
    np.testing.assert_allclose(metrics.s_mtl(ccc, uar, 1 / inverse_mae), stats.hmean(terms), rtol=1e-6)


def test_s_mtl_limit_rules():
    assert float(metrics.s_mtl(0.0, 0.5, 4.0)) == 0.0
    assert float(metrics.s_mtl(-0.2, 0.5, 4.0)) == 0.0
    assert float(metrics.s_mtl(0.5, 0.0, 4.0)) == 0.0
    # MAE == 0: 1/MAE = inf contributes nothing to the sum of reciprocals.
    assert float(metrics.s_mtl(1.0, 1.0, 0.0)) == pytest.approx(1.5)
    assert float(metrics.s_mtl(0.5, 0.25, 0.0)) == pytest.approx(3 / (2 + 4))
    # ... and it is the limit of MAE -> 0+.
    assert float(metrics.s_mtl(0.5, 0.25, 1e-9)) == pytest.approx(float(metrics.s_mtl(0.5, 0.25, 0.0)), rel=1e-6)
    assert np.isnan(metrics.s_mtl(np.nan, 0.5, 4.0))
    assert np.isnan(metrics.s_mtl(0.5, 0.5, -1.0))
    np.testing.assert_allclose(jax.jit(metrics.s_mtl)(0.3, 0.5, 4.0), stats.hmean([0.3, 0.5, 0.25]), rtol=1e-6)


def _official_script_s_mtl(per_emotion_ccc, uar, mae) -> float:
    """The official multitask script's procedure written out: each emotion's CCC rounded to 4 decimals, their
    mean, UAR and 1/MAE (unrounded) into scipy's harmonic mean, and only that rounded to 4 decimals."""
    rounded = [float(np.round(c, 4)) for c in per_emotion_ccc]
    return float(np.round(stats.hmean([np.mean(rounded), uar, 1.0 / mae]), 4))


def _rounded_terms_s_mtl(per_emotion_ccc, uar, mae) -> float:
    """The other reading: mean CCC, UAR and MAE also rounded before the harmonic mean."""
    terms = [np.round(np.mean(np.round(per_emotion_ccc, 4)), 4), np.round(uar, 4), 1.0 / np.round(mae, 4)]
    return float(np.round(stats.hmean(terms), 4))


def test_reference_rounding_follows_the_official_script():
    rng = np.random.default_rng(2022)
    cases = [(rng.uniform(0.02, 0.9, 10), rng.uniform(0.25, 0.95), rng.uniform(1.0, 10.0)) for _ in range(500)]
    official = [_official_script_s_mtl(*case) for case in cases]
    assert [reported_s_mtl(*case, reference_rounding=True) for case in cases] == official
    differs = sum(_rounded_terms_s_mtl(*case) != value for case, value in zip(cases, official))
    print(f"\nrounding the terms too changes S_MTL in {differs} of {len(cases)} cases")
    assert differs > 0
    # The default is the unrounded float64 harmonic mean.
    for ccc_values, uar, mae in cases[:50]:
        assert reported_s_mtl(ccc_values, uar, mae) == pytest.approx(stats.hmean([np.mean(ccc_values), uar, 1 / mae]),
                                                                     rel=1e-13)
    assert reported_s_mtl([-0.1] * 10, 0.5, 4.0, reference_rounding=True) == 0.0  # the limit rules still hold


def test_heep_is_pearson_of_vectorised_matrices():
    targets = RNG.integers(0, 10, 40)
    ratings = np.clip(0.6 * np.eye(10)[targets] + 0.3 * RNG.random((40, 10)), 0, 1)
    expected = stats.pearsonr(np.eye(10)[targets].ravel(), ratings.ravel()).statistic
    np.testing.assert_allclose(metrics.heep(targets, ratings), expected, atol=1e-5)
    np.testing.assert_allclose(metrics.heep(np.eye(10)[targets], ratings), expected, atol=1e-5)
    mask = np.arange(40) < 25
    expected_masked = stats.pearsonr(np.eye(10)[targets[:25]].ravel(), ratings[:25].ravel()).statistic
    np.testing.assert_allclose(metrics.heep(targets, ratings, mask), expected_masked, atol=1e-5)


def test_heep_per_emotion_and_s_gen():
    targets = np.repeat(np.arange(3), 6)
    ratings = np.clip(0.5 * np.eye(3)[targets] + 0.4 * RNG.random((18, 3)), 0, 1)
    per_emotion = metrics.heep_per_emotion(targets, ratings)
    for e in range(3):
        rows = targets == e
        expected = stats.pearsonr(np.eye(3)[targets[rows]].ravel(), ratings[rows].ravel()).statistic
        np.testing.assert_allclose(per_emotion[e], expected, atol=1e-5)
    fid = np.array([4.0, 8.0, 5.0])
    np.testing.assert_allclose(metrics.s_gen(fid, per_emotion), (1 / fid + np.asarray(per_emotion)) / 2, rtol=1e-6)
    np.testing.assert_allclose(metrics.mean_s_gen(fid, per_emotion), np.mean((1 / fid + np.asarray(per_emotion)) / 2), rtol=1e-6)
    assert np.isinf(metrics.s_gen(0.0, 0.2))


def test_streaming_equals_whole_set_and_psum():
    truth = RNG.random((37, 10)).astype(np.float32)
    pred = np.clip(truth + 0.2 * RNG.normal(size=truth.shape), 0, 1).astype(np.float32)
    labels, classes = RNG.integers(0, 4, 37), RNG.integers(0, 4, 37)
    # Padded to 4 device shards of 10 rows; the padding is masked.
    pad = 3
    truth_p = np.concatenate([truth, np.zeros((pad, 10), np.float32)]).reshape(4, 10, 10)
    pred_p = np.concatenate([pred, np.ones((pad, 10), np.float32)]).reshape(4, 10, 10)
    labels_p = np.concatenate([labels, np.zeros(pad, int)]).reshape(4, 10)
    classes_p = np.concatenate([classes, np.ones(pad, int)]).reshape(4, 10)
    mask_p = (np.arange(40) < 37).reshape(4, 10)

    def shard_stats(t, p, lab, cls, m):
        regression = metrics.RegressionStats.from_batch(t, p, m)
        confusion = metrics.ConfusionStats.from_batch(lab, cls, 4, m)
        return jax.lax.psum((regression, confusion), "devices")

    regression, confusion = jax.vmap(shard_stats, axis_name="devices")(truth_p, pred_p, labels_p, classes_p, mask_p)
    regression, confusion = jax.tree.map(lambda x: x[0], (regression, confusion))
    np.testing.assert_allclose(regression.ccc(), metrics.ccc(truth, pred), atol=1e-5)
    np.testing.assert_allclose(regression.ccc("reference"), metrics.ccc(truth, pred, variant="reference"), atol=1e-5)
    np.testing.assert_allclose(regression.pearson(), metrics.pearson(truth, pred), atol=1e-5)
    np.testing.assert_allclose(regression.mae(), metrics.mae(truth, pred), atol=1e-6)
    np.testing.assert_allclose(confusion.uar(), metrics.uar(labels, classes, 4), atol=1e-6)
    empty = metrics.RegressionStats.empty(10) + metrics.RegressionStats.from_batch(truth, pred)
    np.testing.assert_allclose(empty.ccc(), metrics.ccc(truth, pred), atol=1e-5)


def test_streaming_with_large_offsets_in_float64():
    truth = 1e5 + RNG.random(100)
    pred = truth + RNG.normal(size=100)
    with jax.enable_x64(True):
        stats64 = metrics.RegressionStats.from_batch(truth[:60], pred[:60]) + metrics.RegressionStats.from_batch(truth[60:], pred[60:])
        assert stats64.count.dtype == jnp.float64
        np.testing.assert_allclose(stats64.ccc(), audmetric.concordance_cc(truth, pred), atol=1e-5)


def test_moments_are_population_moments():
    x, y = RNG.random(20), RNG.random(20)
    m = moments(x, y)
    np.testing.assert_allclose([m.var_true, m.var_pred, m.cov], [x.var(), y.var(), np.cov(x, y, ddof=0)[0, 1]], atol=1e-6)
