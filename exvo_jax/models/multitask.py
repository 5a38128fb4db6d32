"""Multitask network of the ExVo baseline and its uncertainty-weighted loss.

Shared trunk `Dense(128) -> LayerNorm -> LeakyReLU(0.01) -> Dense(64) -> LayerNorm -> LeakyReLU`, then one
head per task `Dense(32) -> LeakyReLU -> Dense(k)`. Heads come from a task spec, so the same network
serves HUME-VB (emotion intensities, age, country) and other corpora (e.g. vocalisation type, age, sex).
The module also owns one learned log-variance per task for the loss (Kendall et al. 2018):
`sum_i exp(-s_i) / 2 * L_i + s_i / 2`, s initialised to -0.33.

Initialisation of the Dense layers (`init_scheme`): "flax" (default) is flax's own, LeCun normal weights
(truncated normal, variance 1/fan_in: std 0.0125 in the first layer at D=6373) and zero biases;
"torch" is the reference's, PyTorch's `nn.Linear` default, weights and biases uniform in
+-1/sqrt(fan_in) (std 0.0072 there). LayerNorm starts at scale 1 and offset 0 in both.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from exvo_jax.data.schema import NUM_COUNTRIES, NUM_EMOTIONS

# Task kinds: "intensity" = values in [0, 1] (sigmoid output, loss summed over columns),
# "regression" = unbounded scalar(s), "classification" = logits over `size` classes.
TASK_KINDS = ("intensity", "regression", "classification")
INIT_SCHEMES = ("flax", "torch")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One head: a name (also the label key), its kind and output size."""

    name: str
    kind: str
    size: int

    def __post_init__(self):
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task {self.name!r}: unknown kind {self.kind!r} (expected one of {', '.join(TASK_KINDS)})")
        if self.size < 1 or (self.kind == "classification" and self.size < 2):
            raise ValueError(f"task {self.name!r}: size {self.size} is too small for {self.kind}")


def _uniform(key: jax.Array, shape, dtype=jnp.float32, *, bound: float) -> jax.Array:
    return jax.random.uniform(key, shape, dtype, -bound, bound)


class MultitaskNet(nn.Module):
    """Returns ({task: [B, k] outputs}, log-variances [T]); intensities are sigmoids, classes are logits."""

    tasks: tuple[TaskSpec, ...]
    trunk: tuple[int, ...] = (128, 64)
    head_hidden: int = 32
    log_var_init: float = -0.33
    negative_slope: float = 0.01
    init_scheme: str = "flax"  # Dense initialisation, "flax" or "torch" (see the module docstring)

    def _dense(self, features: int, fan_in: int, name: str) -> nn.Dense:
        if self.init_scheme == "flax":
            return nn.Dense(features, name=name)
        bound = 1.0 / fan_in**0.5  # kaiming_uniform(a=sqrt(5)) = variance_scaling(1/3, fan_in, uniform)
        return nn.Dense(features, name=name,
                        kernel_init=nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform"),
                        bias_init=functools.partial(_uniform, bound=bound))

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:  # x: [B, D]
        if self.init_scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init_scheme {self.init_scheme!r} (expected one of {', '.join(INIT_SCHEMES)})")
        act = functools.partial(nn.leaky_relu, negative_slope=self.negative_slope)
        h = x
        for i, width in enumerate(self.trunk):
            h = self._dense(width, h.shape[-1], f"dense_{i}")(h)  # [B, width]
            h = act(nn.LayerNorm(epsilon=1e-5, name=f"norm_{i}")(h))
        outputs = {}
        for task in self.tasks:
            z = act(self._dense(self.head_hidden, h.shape[-1], f"{task.name}_hidden")(h))  # [B, 32]
            z = self._dense(task.size, z.shape[-1], f"{task.name}_out")(z)  # [B, k]
            outputs[task.name] = nn.sigmoid(z) if task.kind == "intensity" else z
        log_var = self.param("loss_log_var", nn.initializers.constant(self.log_var_init), (len(self.tasks),))
        return outputs, log_var


def masked_mean(values: jax.Array, mask: jax.Array) -> jax.Array:
    """Mean of `values` [B] over rows where `mask` [B] is 1."""
    return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def batch_ccc(y_true: jax.Array, y_pred: jax.Array, mask: jax.Array) -> jax.Array:
    """Population CCC per column of [B, K] over masked rows (a differentiable training objective)."""
    w = mask[:, None] / jnp.maximum(jnp.sum(mask), 1.0)  # [B, 1]
    mu_t, mu_p = jnp.sum(w * y_true, 0), jnp.sum(w * y_pred, 0)  # [K]
    var_t = jnp.sum(w * (y_true - mu_t) ** 2, 0)
    var_p = jnp.sum(w * (y_pred - mu_p) ** 2, 0)
    cov = jnp.sum(w * (y_true - mu_t) * (y_pred - mu_p), 0)
    return 2 * cov / (var_t + var_p + (mu_t - mu_p) ** 2 + 1e-8)  # [K]


def task_loss(task: TaskSpec, output: jax.Array, target: jax.Array, mask: jax.Array,
              intensity_loss: str = "mse", class_weights: Sequence[float] | None = None) -> jax.Array:
    """Loss of one head on a masked batch.

    intensity: sum over columns of per-column MSE ("mse") or sum over columns of 1 - CCC ("ccc");
    regression: MSE (mean over columns); classification: cross-entropy with integer targets.
    """
    if task.kind == "intensity":
        if intensity_loss == "ccc":
            return jnp.sum(1.0 - batch_ccc(target, output, mask))
        return masked_mean(jnp.sum((output - target) ** 2, axis=-1), mask)
    if task.kind == "regression":
        target = target.reshape(output.shape)
        return masked_mean(jnp.mean((output - target) ** 2, axis=-1), mask)
    cross_entropy = optax.softmax_cross_entropy_with_integer_labels(output, target)  # [B]
    if class_weights is not None:  # each row weighted by its class's weight (mean 1 over the training rows)
        cross_entropy = cross_entropy * jnp.asarray(class_weights, jnp.float32)[target]
    return masked_mean(cross_entropy, mask)


def task_losses(tasks: Sequence[TaskSpec], outputs: Mapping[str, jax.Array], targets: Mapping[str, jax.Array],
                mask: jax.Array, intensity_loss: str = "mse",
                class_weights: Mapping[str, Sequence[float]] | None = None) -> jax.Array:
    """Per-task losses [T] in task order; `class_weights` maps classification tasks to per-class weights."""
    weights = class_weights or {}
    return jnp.stack([task_loss(t, outputs[t.name], targets[t.name], mask, intensity_loss, weights.get(t.name))
                      for t in tasks])


def uncertainty_weighted(losses: jax.Array, log_var: jax.Array) -> jax.Array:
    """`sum_i exp(-s_i) / 2 * L_i + s_i / 2` over tasks; losses, log_var: [T]."""
    return jnp.sum(0.5 * jnp.exp(-log_var) * losses + 0.5 * log_var)


def parameter_count(params) -> int:
    return sum(int(p.size) for p in jax.tree_util.tree_leaves(params))


def exvo_tasks() -> tuple[TaskSpec, ...]:
    """HUME-VB heads in the baseline's order: 10 emotion intensities, age in years, 4 countries."""
    return (
        TaskSpec("emotion", "intensity", NUM_EMOTIONS),
        TaskSpec("age", "regression", 1),
        TaskSpec("country", "classification", NUM_COUNTRIES),
    )
