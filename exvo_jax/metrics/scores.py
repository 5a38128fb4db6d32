"""Competition scores in `jax.numpy`: S_MTL (multitask), HEEP and S_Gen (generation).

S_MTL is the harmonic mean of (mean CCC, UAR, 1/MAE):
    S_MTL = 3 / (1/CCC + 1/UAR + MAE)
which is defined for every input by these rules (each the limit of the harmonic mean):
  * CCC <= 0 or UAR <= 0 gives 0: the harmonic mean tends to 0 as any term tends to 0+, and a
    non-positive term is treated as that limit (the reference crashes or yields NaN there);
  * MAE == 0 means 1/MAE = inf, whose reciprocal contributes 0: S_MTL = 3 / (1/CCC + 1/UAR)
    (so a perfect prediction scores 1.5, not 1);
  * a NaN term, an infinite MAE (from infinite predictions) or a negative MAE gives NaN: NaN is
    never a score.
`reported_s_mtl` computes it in float64 from the per-emotion CCCs, unrounded by default; with
`reference_rounding` it rounds as the official multitask script does: each emotion's CCC to 4
decimals, then the mean of those and the unrounded UAR and MAE enter the harmonic mean, and only the
result is rounded to 4 decimals (numpy's round-half-even of the scaled value, as that script).

HEEP (human-evaluated emotional expressiveness) is the Pearson correlation between the vectorised
N x C one-hot matrix of targeted emotions and the vectorised N x C matrix of mean human ratings.
S_Gen_e = (1/FID_e + HEEP_e) / 2 per emotion (FID_e == 0 gives inf), averaged over emotions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.metrics.regression import pearson

REFERENCE_DECIMALS = 4


def s_mtl(ccc, uar, mae) -> jnp.ndarray:
    """Harmonic mean of (mean CCC, UAR, 1/MAE) with the limit rules of the module docstring."""
    ccc, uar, mae = (jnp.asarray(x, jnp.result_type(x, jnp.float32)) for x in (ccc, uar, mae))
    positive = (ccc > 0) & (uar > 0)
    safe_ccc = jnp.where(positive, ccc, 1.0)
    safe_uar = jnp.where(positive, uar, 1.0)
    value = jnp.where(positive, 3.0 / (1.0 / safe_ccc + 1.0 / safe_uar + mae), 0.0)
    invalid = jnp.isnan(ccc) | jnp.isnan(uar) | ~jnp.isfinite(mae) | (mae < 0)
    return jnp.where(invalid, jnp.nan, value)


def reported_s_mtl(per_emotion_ccc, uar, mae, reference_rounding: bool = False) -> float:
    """S_MTL of per-emotion CCCs [E], UAR and MAE as a float64 Python float (see the module docstring)."""
    ccc = np.asarray(per_emotion_ccc, np.float64)
    if reference_rounding:
        ccc = np.round(ccc, REFERENCE_DECIMALS)
    with jax.enable_x64(True):
        value = float(s_mtl(np.float64(ccc.mean()), np.float64(uar), np.float64(mae)))
    return float(np.round(value, REFERENCE_DECIMALS)) if reference_rounding else value


def _one_hot_targets(targets, num_classes: int) -> jnp.ndarray:
    targets = jnp.asarray(targets)
    if targets.ndim == 1:
        return jax.nn.one_hot(targets, num_classes, dtype=jnp.float32)  # [N, C]
    return targets.astype(jnp.float32)


def heep(targets, ratings, mask=None) -> jnp.ndarray:
    """Pearson between vec(one-hot targets) and vec(ratings); targets are indices [N] or one-hot [N, C]."""
    ratings = jnp.asarray(ratings)
    num_classes = ratings.shape[-1]
    one_hot = _one_hot_targets(targets, num_classes)  # [N, C]
    if one_hot.shape != ratings.shape:
        raise ValueError(f"targets {one_hot.shape} and ratings {ratings.shape} differ in shape")
    row_mask = jnp.ones(ratings.shape[0]) if mask is None else jnp.asarray(mask)
    flat_mask = jnp.repeat(row_mask, num_classes)  # [N * C], row-major like the flattened matrices
    return pearson(one_hot.reshape(-1), ratings.reshape(-1).astype(one_hot.dtype), flat_mask)


def heep_per_emotion(targets, ratings, mask=None) -> jnp.ndarray:
    """HEEP_e [C] over the clips generated for each emotion e (targets are indices [N]); NaN if none."""
    targets = jnp.asarray(targets)
    ratings = jnp.asarray(ratings)
    row_mask = jnp.ones(targets.shape, bool) if mask is None else jnp.asarray(mask).astype(bool)
    emotions = jnp.arange(ratings.shape[-1])
    return jax.vmap(lambda e: heep(targets, ratings, row_mask & (targets == e)))(emotions)


def s_gen(fid, heep_value) -> jnp.ndarray:
    """Per-emotion generation score (1/FID_e + HEEP_e) / 2 (elementwise)."""
    fid = jnp.asarray(fid, jnp.result_type(fid, jnp.float32))
    return (1.0 / fid + jnp.asarray(heep_value)) / 2.0


def mean_s_gen(fid, heep_value) -> jnp.ndarray:
    """S_Gen averaged over emotions."""
    return jnp.mean(s_gen(fid, heep_value))
