"""Seeds' predictions combined into one, and regression outputs shrunk toward the training mean.

On small corpora one seed's network is a noisy estimate; the mean of the seeds' predictions
(probabilities for classes, values otherwise) is a better one than the seed that looked best on Val.
Where a regression's signal is weak (age from a short burst), the network's deviations from the training
mean add more error than they remove: each regression output is shrunk to `mean + f * (output - mean)`,
the factor `f` in [0, 1] chosen on Val by MAE (f = 1 leaves the network's output as it is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from exvo_jax.models.multitask import TaskSpec

SHRINK_FACTORS = tuple(np.linspace(0.0, 1.0, 11))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _log_mean_exp(values: np.ndarray) -> np.ndarray:
    """log(mean(exp(values), axis 0)), finite wherever some row is (no underflow to log 0)."""
    top = values.max(0)
    return top + np.log(np.exp(values - top).mean(0))


def combine(tasks: Sequence[TaskSpec], outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`{task: [S, N, k]}` network outputs of S seeds -> `{task: [N, k]}`: the log of the mean class
    probabilities (so argmax and softmax keep their meaning), the mean of the other outputs."""
    combined = {}
    for task in tasks:
        values = np.asarray(outputs[task.name], np.float64)
        if task.kind == "classification":
            combined[task.name] = _log_mean_exp(_log_softmax(values)).astype(np.float32)
        else:
            combined[task.name] = values.mean(0).astype(np.float32)
    return combined


def choose_shrinkage(tasks: Sequence[TaskSpec], val_outputs: Mapping[str, np.ndarray],
                     val_labels: Mapping[str, np.ndarray],
                     train_labels: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """`{regression task: (training mean, factor)}`, the factor with the lowest Val MAE (ties: the larger)."""
    chosen = {}
    for task in tasks:
        if task.kind != "regression":
            continue
        mean = float(np.mean(train_labels[task.name]))
        output = np.asarray(val_outputs[task.name]).reshape(len(val_labels[task.name]), -1)
        truth = np.asarray(val_labels[task.name]).reshape(len(output), -1)
        errors = [np.abs(mean + f * (output - mean) - truth).mean() for f in SHRINK_FACTORS]
        best = len(errors) - 1 - int(np.argmin(errors[::-1]))
        chosen[task.name] = (mean, float(SHRINK_FACTORS[best]))
    return chosen


def shrink(outputs: Mapping[str, np.ndarray], shrinkage: Mapping[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    """Outputs with each task of `shrinkage` moved to `mean + factor * (output - mean)`."""
    out = dict(outputs)
    for name, (mean, factor) in shrinkage.items():
        out[name] = (mean + factor * (np.asarray(outputs[name]) - mean)).astype(np.float32)
    return out
