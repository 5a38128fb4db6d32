"""Scores of multitask predictions: per-column CCC and mean CCC, MAE, UAR, and S_MTL on HUME-VB heads.

Scores are named for the table: `<column> CCC` per emotion, `Mean CCC`, `<Task> MAE`, `<Task> UAR` and
`S_MTL` (the harmonic mean of mean CCC, country UAR and 1/age-MAE, defined where all three heads exist).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from exvo_jax import metrics
from exvo_jax.models.multitask import TaskSpec


def as_labels(task: TaskSpec, output: np.ndarray) -> np.ndarray:
    """Network output [N, k] to the label form: intensities [N, k], regression [N] (k=1), class index [N].

    A class index is NaN (float) where the scores hold a NaN, so that the UAR of such outputs is NaN
    instead of counting the NaN as the class argmax happens to pick.
    """
    if task.kind == "classification":
        output = np.asarray(output)
        undefined = np.isnan(output).any(-1)
        index = output.argmax(-1)
        return np.where(undefined, np.nan, index).astype(np.float32) if undefined.any() else index.astype(np.int32)
    if task.kind == "regression" and output.shape[-1] == 1:
        return np.asarray(output)[..., 0]
    return np.asarray(output)


def score(tasks: Sequence[TaskSpec], predictions: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray],
          column_names: Mapping[str, Sequence[str]], ccc_variant: str = "population") -> dict[str, float]:
    """Scores of label-form predictions against labels, in table order."""
    scores: dict[str, float] = {}
    by_name = {t.name: t for t in tasks}
    for task in tasks:
        pred, true = predictions[task.name], labels[task.name]
        title = task.name.capitalize()
        if task.kind == "intensity":
            per_column = np.asarray(metrics.ccc(true, pred, variant=ccc_variant))  # [k]
            names = column_names.get(task.name, [f"{task.name}_{i}" for i in range(task.size)])
            scores.update({f"{name} CCC": float(v) for name, v in zip(names, per_column)})
            scores["Mean CCC"] = float(per_column.mean())
        elif task.kind == "regression":
            scores[f"{title} MAE"] = float(metrics.mae(true, pred))
        else:
            scores[f"{title} UAR"] = float(metrics.uar(true, pred, task.size))
    if {"emotion", "age", "country"} <= set(by_name):
        scores["S_MTL"] = float(metrics.s_mtl(scores["Mean CCC"], scores["Country UAR"], scores["Age MAE"]))
    return scores


def trivial_predictions(tasks: Sequence[TaskSpec], train_labels: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The baseline to beat: training mean for intensities and regression, majority class for classes."""
    out = {}
    for task in tasks:
        y = np.asarray(train_labels[task.name])
        if task.kind == "classification":
            out[task.name] = np.full((n,), np.bincount(y, minlength=task.size).argmax(), np.int32)
        else:
            out[task.name] = np.broadcast_to(y.mean(axis=0), (n,) + y.shape[1:]).astype(np.float32)
    return out


def selection_score(scores: Mapping[str, float], val_loss: float) -> float:
    """Higher is better: S_MTL where defined, else the negated validation loss."""
    value = scores.get("S_MTL", float("nan"))
    return value if np.isfinite(value) else -val_loss
