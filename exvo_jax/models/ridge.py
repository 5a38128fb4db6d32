"""Ridge regression in closed form for many strengths at once: the linear yardsticks' solver.

One eigendecomposition serves every strength: of the Gram matrix X X^T when rows are fewer than features
(the dual solve), else of X^T X. Float64 throughout; the intercept is the training mean.
"""

from __future__ import annotations

import numpy as np


def ridge_paths(x: np.ndarray, y: np.ndarray, alphas, *others: np.ndarray) -> list[list[np.ndarray]]:
    """Ridge predictions of targets `y` [N, k] (intercept: the mean) for each alpha, on each array of `others`.

    Returns `[alpha][other] -> [M, k]`. `x` is centred on its own mean; the same shift applies to `others`.
    """
    x = np.asarray(x, np.float64)
    shift, offset = x.mean(0), y.mean(0)
    x, y = x - shift, np.asarray(y, np.float64) - offset
    others = [np.asarray(o, np.float64) - shift for o in others]
    if len(x) <= x.shape[1]:  # dual: w = X^T (X X^T + a I)^-1 y
        values, vectors = np.linalg.eigh(x @ x.T)
        projected = vectors.T @ y
        directions = [o @ x.T @ vectors for o in others]  # [M, N]
    else:  # primal: w = (X^T X + a I)^-1 X^T y
        values, vectors = np.linalg.eigh(x.T @ x)
        projected = vectors.T @ (x.T @ y)
        directions = [o @ vectors for o in others]  # [M, D]
    values = np.maximum(values, 0.0)
    return [[d @ (projected / (values + alpha)[:, None]) + offset for d in directions] for alpha in alphas]
