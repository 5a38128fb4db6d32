"""Streaming metrics: sufficient statistics accumulated batch by batch and across devices.

Each statistic is a pytree of sums (`flax.struct.PyTreeNode`); merging is addition, so partial
statistics from devices combine with `jax.lax.psum(stats, axis_name)` and from batches with `+`.
Padded rows are masked (weight 0), never dropped, so the result equals the whole-set metric.

Precision: `RegressionStats` keeps raw sums (sum x, sum x^2, sum xy). They are exact to float32
rounding for data of unit scale such as emotion intensities in [0, 1] (agreement with the two-pass
whole-set metrics to about 1e-5); for data whose mean is far larger than its spread, accumulate
float64 inputs under `jax.enable_x64(True)` or centre the data by a known constant first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from exvo_jax.metrics.classification import confusion_matrix, uar_from_confusion
from exvo_jax.metrics.regression import (
    CCCVariant,
    Moments,
    ccc_from_moments,
    masked_inputs,
    pearson_from_moments,
)


class RegressionStats(struct.PyTreeNode):
    """Sums over valid rows of a pair of [N] or [N, K] arrays; results per column."""

    count: jnp.ndarray  # [] or [K]
    sum_true: jnp.ndarray
    sum_pred: jnp.ndarray
    sum_true_sq: jnp.ndarray
    sum_pred_sq: jnp.ndarray
    sum_cross: jnp.ndarray
    sum_abs_error: jnp.ndarray

    @classmethod
    def from_batch(cls, y_true, y_pred, mask=None) -> RegressionStats:
        y_true, y_pred, w = masked_inputs(y_true, y_pred, mask)
        return cls(
            count=w.sum(axis=0),
            sum_true=(w * y_true).sum(axis=0),
            sum_pred=(w * y_pred).sum(axis=0),
            sum_true_sq=(w * y_true * y_true).sum(axis=0),
            sum_pred_sq=(w * y_pred * y_pred).sum(axis=0),
            sum_cross=(w * y_true * y_pred).sum(axis=0),
            sum_abs_error=(w * jnp.abs(y_true - y_pred)).sum(axis=0),
        )

    @classmethod
    def empty(cls, num_columns: int | None = None, dtype=jnp.float32) -> RegressionStats:
        """Zero statistics for [N] inputs (`num_columns=None`) or [N, num_columns] inputs."""
        shape = () if num_columns is None else (num_columns,)
        return cls(*(jnp.zeros(shape, dtype) for _ in range(7)))

    def merge(self, other: RegressionStats) -> RegressionStats:
        return jax.tree.map(jnp.add, self, other)

    __add__ = merge

    def moments(self) -> Moments:
        n = jnp.where(self.count > 0, self.count, 1.0)
        mean_t, mean_p = self.sum_true / n, self.sum_pred / n
        var_t = jnp.maximum(self.sum_true_sq / n - mean_t**2, 0.0)
        var_p = jnp.maximum(self.sum_pred_sq / n - mean_p**2, 0.0)
        cov = self.sum_cross / n - mean_t * mean_p
        return Moments(self.count, mean_t, mean_p, var_t, var_p, cov, (self.sum_true - self.sum_pred) / n)

    def ccc(self, variant: CCCVariant = "population") -> jnp.ndarray:
        return ccc_from_moments(self.moments(), variant)

    def pearson(self) -> jnp.ndarray:
        return pearson_from_moments(self.moments())

    def mae(self) -> jnp.ndarray:
        return jnp.where(self.count > 0, self.sum_abs_error / jnp.where(self.count > 0, self.count, 1.0), jnp.nan)


class ConfusionStats(struct.PyTreeNode):
    """Confusion counts [C, C] (row = true class, column = predicted class)."""

    counts: jnp.ndarray

    @classmethod
    def from_batch(cls, labels, predictions, num_classes: int, mask=None) -> ConfusionStats:
        return cls(confusion_matrix(labels, predictions, num_classes, mask))

    @classmethod
    def empty(cls, num_classes: int) -> ConfusionStats:
        return cls(jnp.zeros((num_classes, num_classes), jnp.float32))

    def merge(self, other: ConfusionStats) -> ConfusionStats:
        return ConfusionStats(self.counts + other.counts)

    __add__ = merge

    def uar(self) -> jnp.ndarray:
        return uar_from_confusion(self.counts)
