"""Property tests (hypothesis) of the metrics: CCC bounds and symmetry, UAR relabelling, streaming splits.

Arrays are padded to fixed shapes and the padding masked, so each property compiles once.
"""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exvo_jax import metrics

SETTINGS = settings(max_examples=40, deadline=None)
SIZE = 40  # padded length of every drawn vector

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)
# Intensities on a dyadic grid (multiples of 1/256): sums of values, squares and products are exact
# in float64, so streaming and whole-set results can be compared without rounding noise.
grid = st.integers(0, 256).map(lambda k: k / 256.0)


@st.composite
def masked_pairs(draw):
    """(truth [SIZE], pred [SIZE], mask [SIZE]) with 2..SIZE valid rows and garbage padding."""
    truth = draw(arrays(np.float32, SIZE, elements=values))
    pred = draw(arrays(np.float32, SIZE, elements=values))
    mask = np.arange(SIZE) < draw(st.integers(2, SIZE))
    return truth, pred, mask


@SETTINGS
@given(masked_pairs())
def test_ccc_of_identical_vectors_is_one_or_the_reference_fraction(pair):
    truth, _, mask = pair
    n = int(mask.sum())
    assert float(metrics.ccc(truth, truth, mask)) == 1.0
    # The multitask-reference form mixes 1/(N-1) variances with a 1/N covariance: (N-1)/N.
    np.testing.assert_allclose(metrics.ccc(truth, truth, mask, variant="reference"), (n - 1) / n, rtol=1e-6)


@SETTINGS
@given(masked_pairs(), st.sampled_from(metrics.CCC_VARIANTS))
def test_ccc_is_symmetric_and_bounded(pair, variant):
    truth, pred, mask = pair
    forward = float(metrics.ccc(truth, pred, mask, variant=variant))
    backward = float(metrics.ccc(pred, truth, mask, variant=variant))
    assert -1.0 <= forward <= 1.0
    assert abs(forward - backward) <= 1e-6


@SETTINGS
@given(arrays(np.int32, SIZE, elements=st.integers(0, 4)), arrays(np.int32, SIZE, elements=st.integers(0, 4)),
       st.permutations(range(5)), st.integers(1, SIZE))
def test_uar_is_invariant_to_class_relabelling(labels, pred, permutation, n):
    relabel = np.asarray(permutation)
    mask = np.arange(SIZE) < n
    original = metrics.uar(labels, pred, 5, mask)
    np.testing.assert_allclose(metrics.uar(relabel[labels], relabel[pred], 5, mask), original, atol=1e-6)


BATCH = 16  # every streamed batch is padded to this many rows
MAX_ROWS = 48  # the whole set is padded to this many rows


@st.composite
def split_batches(draw):
    n = draw(st.integers(2, MAX_ROWS))
    truth = np.array(draw(st.lists(grid, min_size=n * 3, max_size=n * 3))).reshape(n, 3)
    pred = np.array(draw(st.lists(grid, min_size=n * 3, max_size=n * 3))).reshape(n, 3)
    labels = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    classes = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(min(n, bounds[-1] + draw(st.integers(1, BATCH))))
    return truth, pred, labels, classes, bounds


def _pad(x: np.ndarray, value: float, rows: int = BATCH) -> np.ndarray:
    return np.concatenate([x, np.full((rows - len(x), *x.shape[1:]), value, x.dtype)])


@jax.jit
def _batch_stats(truth, pred, labels, classes, mask):
    return (metrics.RegressionStats.from_batch(truth, pred, mask),
            metrics.ConfusionStats.from_batch(labels, classes, 4, mask))


@jax.jit
def _whole_set(truth, pred, labels, classes, mask):
    return {
        "population": metrics.ccc(truth, pred, mask),
        "reference": metrics.ccc(truth, pred, mask, variant="reference"),
        "pearson": metrics.pearson(truth, pred, mask),
        "mae": metrics.mae(truth, pred, mask),
        "confusion": metrics.confusion_matrix(labels, classes, 4, mask),
        "uar": metrics.uar(labels, classes, 4, mask),
    }


@SETTINGS
@given(split_batches())
def test_streaming_equals_whole_set_for_any_split(batches):
    truth, pred, labels, classes, bounds = batches
    with jax.enable_x64(True):
        regression = metrics.RegressionStats.empty(3, dtype=np.float64)
        confusion = metrics.ConfusionStats.empty(4)
        for start, stop in zip(bounds[:-1], bounds[1:]):
            mask = np.arange(BATCH) < stop - start  # garbage padding rows are masked, never dropped
            batch_regression, batch_confusion = _batch_stats(
                _pad(truth[start:stop], 7.0), _pad(pred[start:stop], -7.0),
                _pad(labels[start:stop], 0), _pad(classes[start:stop], 1), mask)
            regression, confusion = regression + batch_regression, confusion + batch_confusion
        whole = _whole_set(_pad(truth, 3.0, MAX_ROWS), _pad(pred, 5.0, MAX_ROWS), _pad(labels, 2, MAX_ROWS),
                           _pad(classes, 3, MAX_ROWS), np.arange(MAX_ROWS) < len(truth))
        for variant in metrics.CCC_VARIANTS:
            np.testing.assert_allclose(regression.ccc(variant), whole[variant], atol=1e-9)
        np.testing.assert_allclose(regression.mae(), whole["mae"], atol=1e-12)
        np.testing.assert_array_equal(confusion.counts, whole["confusion"])
        np.testing.assert_allclose(confusion.uar(), whole["uar"], atol=1e-12)
        if np.all(truth.std(axis=0) > 0.05) and np.all(pred.std(axis=0) > 0.05):
            np.testing.assert_allclose(regression.pearson(), whole["pearson"], atol=1e-9)


@SETTINGS
@given(st.floats(1e-3, 1.0), st.floats(1e-3, 1.0), st.floats(1e-3, 50.0))
def test_s_mtl_lies_between_min_term_and_three_times_it(ccc, uar, mae):
    value = float(metrics.s_mtl(ccc, uar, mae))
    smallest = min(ccc, uar, 1 / mae)
    assert smallest * (1 - 1e-5) <= value <= 3 * smallest * (1 + 1e-5)
