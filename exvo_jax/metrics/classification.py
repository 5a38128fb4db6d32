"""Classification metrics in `jax.numpy`: confusion matrix and unweighted average recall (UAR).

UAR is the macro average of per-class recall over the classes that occur in the (unmasked) labels;
classes with no true sample have no recall and are left out (as `sklearn.metrics.recall_score(...,
labels=np.unique(y_true), average="macro")`). Note that `audmetric.unweighted_average_recall` by
default also averages over classes that only occur in the predictions, counting their recall as 0.
With all classes present in the labels - the case of the ExVo country task - the definitions agree.

A NaN prediction in a valid row (a NaN score, or a NaN class index) has no class: it makes the whole
confusion matrix NaN, and so the UAR, also when the matrix is accumulated batch by batch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def class_predictions(predictions) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Class indices [N] from indices [N] or from scores/logits [N, C] (argmax), and which rows hold a NaN."""
    predictions = jnp.asarray(predictions)
    if predictions.ndim == 2:
        return jnp.argmax(predictions, axis=-1), jnp.isnan(predictions).any(axis=-1)
    if predictions.ndim != 1:
        raise ValueError(f"expected class indices [N] or scores [N, C], got shape {predictions.shape}")
    return predictions, jnp.isnan(predictions)


def confusion_matrix(labels, predictions, num_classes: int, mask=None) -> jnp.ndarray:
    """Counts [C, C] (float32): row = true class, column = predicted class (sklearn's convention).

    `predictions` are class indices [N] or scores [N, C]. Masked rows, and indices outside
    0..num_classes-1 (e.g. padding labels), contribute nothing; a NaN prediction in a valid row makes
    every count NaN.
    """
    labels = jnp.asarray(labels)
    predictions, undefined = class_predictions(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ in shape")
    w = jnp.ones(labels.shape, jnp.float32) if mask is None else jnp.asarray(mask).astype(jnp.float32)
    true_1h = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32) * w[:, None]  # [N, C]
    pred_1h = jax.nn.one_hot(predictions, num_classes, dtype=jnp.float32)  # [N, C]
    return jnp.where(jnp.any(undefined & (w > 0)), jnp.nan, true_1h.T @ pred_1h)


def uar_from_confusion(confusion: jnp.ndarray) -> jnp.ndarray:
    """Macro recall over classes with at least one true sample; NaN when there is none or a count is NaN."""
    support = confusion.sum(axis=1)  # [C]
    present = support > 0
    recall = jnp.diagonal(confusion) / jnp.where(present, support, 1.0)
    n_present = present.sum()
    defined = (n_present > 0) & ~jnp.any(jnp.isnan(confusion))
    return jnp.where(defined, jnp.where(present, recall, 0.0).sum() / jnp.maximum(n_present, 1), jnp.nan)


def uar(labels, predictions, num_classes: int, mask=None) -> jnp.ndarray:
    """Unweighted average recall (macro recall) of class indices or scores against labels."""
    return uar_from_confusion(confusion_matrix(labels, predictions, num_classes, mask))
