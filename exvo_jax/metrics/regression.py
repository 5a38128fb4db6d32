"""Regression metrics in `jax.numpy`: concordance correlation (two forms), Pearson correlation and MAE.

Every function takes `y_true`, `y_pred` of shape [N] (one scalar result) or [N, K] (one result per
column, shape [K]) and an optional `mask` [N] (or broadcastable to the inputs) of 0/1 weights: padded
rows of an evaluation batch are masked, never dropped. All functions are jit-compatible.

CCC forms (Lin 1989):
  * `"population"` (default, textbook, as `audmetric.concordance_cc` and the few-shot reference
    script): variances and covariance with 1/N.
  * `"reference"` (the multitask reference script): variances with 1/(N-1), covariance with 1/N.
    That script also rounds each value to 4 decimals; rounding is a reporting choice and is offered by
    `exvo_jax.submission.scoring`, never here.
Moments use the corrected two-pass algorithm (centre, then remove the residual mean), so large
offsets do not cancel catastrophically in float32.

The reference form is not 1 for a perfect prediction: CCC(x, x) = (N-1)/N there (0.5 at N = 2),
because the covariance and the variances are normalised differently; the population form gives 1.

Edge cases (documented rules, not errors, so that the functions stay jittable):
  * When both vectors are constant and equal the denominator is 0; the value is that of identical
    vectors (1, or (N-1)/N in the reference form), its limit. A constant prediction of a different
    constant gives 0.
  * Fewer than 1 (population) or 2 (reference) valid rows give NaN.
  * A NaN or infinite value in a valid row gives NaN (never the "identical vectors" value): NaN is
    never a score.
  * Pearson is NaN when either vector is constant (undefined, as in `scipy.stats.pearsonr`).
  * Correlations are clipped to [-1, 1] against rounding.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax.numpy as jnp

CCCVariant = Literal["population", "reference"]
CCC_VARIANTS: tuple[str, ...] = ("population", "reference")


class Moments(NamedTuple):
    """Weighted first and second moments of a pair of vectors (population form, 1/N)."""

    count: jnp.ndarray  # [] or [K]
    mean_true: jnp.ndarray
    mean_pred: jnp.ndarray
    var_true: jnp.ndarray
    var_pred: jnp.ndarray
    cov: jnp.ndarray
    mean_diff: jnp.ndarray  # mean of y_true - y_pred, taken directly so that large offsets cancel exactly


def _row_weights(y: jnp.ndarray, mask: jnp.ndarray | None) -> jnp.ndarray:
    """0/1 weights broadcast to the shape of `y`; a row mask [N] is expanded over the columns."""
    if mask is None:
        return jnp.ones_like(y)
    mask = jnp.asarray(mask).astype(y.dtype)
    if mask.ndim == 1 and y.ndim == 2:
        mask = mask[:, None]
    return jnp.broadcast_to(mask, y.shape)


def masked_inputs(y_true, y_pred, mask=None) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(y_true, y_pred, weights) as floats of one shape [N] or [N, K]; masked entries are set to 0,
    so that padding holding NaN or huge values cannot leak into the sums."""
    y_true = jnp.asarray(y_true)
    y_pred = jnp.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    if y_true.ndim not in (1, 2):
        raise ValueError(f"expected inputs of shape [N] or [N, K], got {y_true.shape}")
    dtype = jnp.result_type(y_true.dtype, y_pred.dtype, jnp.float32)
    y_true, y_pred = y_true.astype(dtype), y_pred.astype(dtype)
    w = _row_weights(y_true, mask)
    valid = w > 0
    return jnp.where(valid, y_true, 0.0), jnp.where(valid, y_pred, 0.0), w


def moments(y_true, y_pred, mask=None) -> Moments:
    """Weighted means, population variances and covariance over axis 0 (corrected two-pass)."""
    y_true, y_pred, w = masked_inputs(y_true, y_pred, mask)
    n = w.sum(axis=0)
    safe_n = jnp.where(n > 0, n, 1.0)
    mean_t = (w * y_true).sum(axis=0) / safe_n
    mean_p = (w * y_pred).sum(axis=0) / safe_n
    dt = y_true - mean_t  # [N] or [N, K]
    dp = y_pred - mean_p
    corr_t = (w * dt).sum(axis=0) / safe_n  # residual mean left by rounding in the first pass
    corr_p = (w * dp).sum(axis=0) / safe_n
    var_t = (w * dt * dt).sum(axis=0) / safe_n - corr_t**2
    var_p = (w * dp * dp).sum(axis=0) / safe_n - corr_p**2
    cov = (w * dt * dp).sum(axis=0) / safe_n - corr_t * corr_p
    diff = y_true - y_pred
    mean_diff = (w * diff).sum(axis=0) / safe_n
    mean_diff = mean_diff + (w * (diff - mean_diff)).sum(axis=0) / safe_n
    return Moments(
        n, mean_t + corr_t, mean_p + corr_p, jnp.maximum(var_t, 0.0), jnp.maximum(var_p, 0.0), cov, mean_diff
    )


def ccc_from_moments(m: Moments, variant: CCCVariant = "population") -> jnp.ndarray:
    """CCC from population moments; `variant` picks the variance normalisation (see module docstring)."""
    if variant not in CCC_VARIANTS:
        raise ValueError(f"unknown CCC variant {variant!r} (expected one of {', '.join(CCC_VARIANTS)})")
    n = m.count
    if variant == "reference":
        scale = n / jnp.where(n > 1, n - 1, 1.0)
        var_t, var_p, min_count = m.var_true * scale, m.var_pred * scale, 2
    else:
        var_t, var_p, scale, min_count = m.var_true, m.var_pred, 1.0, 1
    perfect = 1.0 / scale  # value for identical vectors: 1, or (N-1)/N in the reference form
    denominator = var_t + var_p + m.mean_diff**2
    value = 2.0 * m.cov / jnp.where(denominator > 0, denominator, 1.0)
    # A NaN denominator (non-finite inputs) is neither > 0 nor == 0 and stays NaN.
    value = jnp.where(denominator > 0, jnp.clip(value, -1.0, 1.0), jnp.where(denominator == 0, perfect, jnp.nan))
    return jnp.where(n >= min_count, value, jnp.nan)


def pearson_from_moments(m: Moments) -> jnp.ndarray:
    """Pearson correlation from moments; NaN where either variance is 0 or no row is valid."""
    denominator = jnp.sqrt(m.var_true * m.var_pred)
    value = m.cov / jnp.where(denominator > 0, denominator, 1.0)
    return jnp.where((denominator > 0) & (m.count > 0), jnp.clip(value, -1.0, 1.0), jnp.nan)


def ccc(y_true, y_pred, mask=None, variant: CCCVariant = "population") -> jnp.ndarray:
    """Concordance correlation coefficient: [] for [N] inputs, [K] for [N, K] inputs."""
    return ccc_from_moments(moments(y_true, y_pred, mask), variant)


def mean_ccc(y_true, y_pred, mask=None, variant: CCCVariant = "population") -> jnp.ndarray:
    """Mean over columns of the per-column CCC (e.g. over the 10 emotions)."""
    return jnp.mean(ccc(y_true, y_pred, mask, variant))


def pearson(y_true, y_pred, mask=None) -> jnp.ndarray:
    """Pearson correlation coefficient: [] for [N] inputs, [K] for [N, K] inputs."""
    return pearson_from_moments(moments(y_true, y_pred, mask))


def mae(y_true, y_pred, mask=None) -> jnp.ndarray:
    """Mean absolute error (over all rows; per column for [N, K]); NaN when no row is valid."""
    y_true, y_pred, w = masked_inputs(y_true, y_pred, mask)
    n = w.sum(axis=0)
    total = (w * jnp.abs(y_true - y_pred)).sum(axis=0)
    return jnp.where(n > 0, total / jnp.where(n > 0, n, 1.0), jnp.nan)
