"""The linear yardstick every multitask table carries beside the trivial predictor.

Trained on the same training rows and standardised features as the network: ridge regression for
intensities (clipped to [0, 1]) and regressions, a class-balanced logistic regression for classes. The
regularisation of each task is chosen on the validation rows, so its validation scores are labelled as
chosen there; its Test scores are held out. Ridge is solved in closed form for all strengths at once
(`exvo_jax.models.ridge`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.linear_model import LogisticRegression

from exvo_jax.models.multitask import TaskSpec
from exvo_jax.models.ridge import ridge_paths
from exvo_jax.tracks.multitask import scoring

RIDGE_ALPHAS = tuple(10.0 ** np.arange(-1, 6))  # ridge strengths, in units of the standardised features
LOGISTIC_CS = tuple(10.0 ** np.arange(-4, 1))  # inverse strengths of the logistic regression's L2 penalty


def _task_score(task: TaskSpec, prediction: np.ndarray, truth: np.ndarray) -> float:
    """Higher is better: mean CCC, minus MAE, or UAR."""
    scores = scoring.score((task,), {task.name: prediction}, {task.name: truth}, {})
    return {"intensity": scores.get("Mean CCC"), "regression": -scores.get(f"{task.name.capitalize()} MAE", 0.0),
            "classification": scores.get(f"{task.name.capitalize()} UAR")}[task.kind]


def fit_predict(tasks: tuple[TaskSpec, ...], x_train: np.ndarray, train_labels: Mapping[str, np.ndarray],
                x_val: np.ndarray, val_labels: Mapping[str, np.ndarray],
                others: Mapping[str, np.ndarray]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """Label-form predictions `{split: {task: ...}}` for "val" and every split of `others`, and the chosen
    regularisation per task (ridge alpha, or logistic C)."""
    names = ["val", *others]
    arrays = [x_val, *others.values()]
    predictions: dict[str, dict[str, np.ndarray]] = {name: {} for name in names}
    chosen: dict[str, float] = {}
    for task in tasks:
        y = np.asarray(train_labels[task.name])
        if task.kind == "classification":
            candidates = [[model.predict(a) for a in arrays] for model in (
                LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x_train, y) for c in LOGISTIC_CS)]
            grid = LOGISTIC_CS
        else:
            y2 = y.reshape(len(y), -1)
            low, high = (0.0, 1.0) if task.kind == "intensity" else (-np.inf, np.inf)
            candidates = [[np.clip(p, low, high).reshape((len(p),) + y.shape[1:]).astype(np.float32) for p in path]
                          for path in ridge_paths(x_train, y2, RIDGE_ALPHAS, *arrays)]
            grid = RIDGE_ALPHAS
        best = int(np.nanargmax([_task_score(task, c[0], val_labels[task.name]) for c in candidates]))
        chosen[task.name] = float(grid[best])
        for name, prediction in zip(names, candidates[best]):
            predictions[name][task.name] = prediction
    return predictions, chosen


def yardstick_results(tasks: tuple[TaskSpec, ...], x_train: np.ndarray, train_labels: Mapping[str, np.ndarray],
                      x_val: np.ndarray, val_labels: Mapping[str, np.ndarray], column_names,
                      ccc_variant: str = "population", x_test: np.ndarray | None = None,
                      test_labels: Mapping[str, np.ndarray] | None = None) -> dict:
    """`{"val": scores (chosen on Val), "test": held-out scores (where Test is labelled), "chosen": {...}}`."""
    others = {"test": x_test} if x_test is not None and test_labels is not None else {}
    predictions, chosen = fit_predict(tasks, x_train, train_labels, x_val, val_labels, others)
    out = {"val": scoring.score(tasks, predictions["val"], val_labels, column_names, ccc_variant), "chosen": chosen}
    if others:
        out["test"] = scoring.score(tasks, predictions["test"], test_labels, column_names, ccc_variant)
    return out
