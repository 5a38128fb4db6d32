"""How far apart two runs' results are, for the tests that compare runs on other meshes or in other processes
(XLA:CPU rounds differently with the device count, so those runs are compared with tolerances)."""

from __future__ import annotations

import jax
import numpy as np


def relative_error(a, b) -> float:
    """Largest |a - b| / (|b| + 1e-3) over the leaves of the pytrees `a` and `b` (`b` the reference; both with
    as many leaves).

    NaN matches NaN: positions that are NaN in both are equal and left out, and a NaN on one side only (or
    leaves of different shapes) is an infinite error, which fails any tolerance. A leaf with nothing left to
    compare (empty, or NaN throughout on both sides) adds nothing.
    """
    worst = 0.0
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            return float("inf")
        keep = ~np.isnan(y)
        if keep.any():
            worst = max(worst, float(np.max(np.abs(x[keep] - y[keep]) / (np.abs(y[keep]) + 1e-3))))
    return worst
