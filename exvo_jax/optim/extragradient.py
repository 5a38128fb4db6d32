"""Extragradient as an optax wrapper, and ExtraAdam / extragradient SGD built on it.

Plain (simultaneous) gradient steps cycle or diverge on min-max games such as a GAN; extragradient
(Korpelevich 1976; with Adam, Gidel et al. 2019) converges on them. One iteration takes two gradients:

    w_{t+1/2} = w_t + inner(g(w_t))           # extrapolation
    w_{t+1}   = w_t + inner(g(w_{t+1/2}))     # the real update, applied from w_t

optax has no such method (its optimistic optimisers reuse one gradient per step), so `extragradient`
wraps any optax transformation the way `optax.contrib.sam` does in its transparent mode: calls to
`update` alternate between the two phases, the anchor w_t is kept in the state, and the caller applies
every returned update with `optax.apply_updates` while taking each gradient at the current params.
Both calls advance the inner transformation's state, so Adam's moments and step count move twice per
iteration, as in the reference ExtraAdam.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

_NO_PARAMS = "extragradient needs the current `params` in `update`: it saves the anchor w_t and returns to it."


class ExtragradientState(NamedTuple):
    """State of the transformation returned by `extragradient`.

    Attributes:
      phase: int32 scalar; 0 when the next `update` extrapolates from the current params (w_t),
        1 when it makes the real update from the anchor.
      inner_state: state of the wrapped transformation, advanced by both phases.
      anchor: the params w_t saved by the last extrapolation (zeros before the first one).
    """

    phase: jax.Array
    inner_state: optax.OptState
    anchor: optax.Params


def extragradient(inner: optax.GradientTransformation) -> optax.GradientTransformationExtraArgs:
    """Wraps `inner` so that successive `update` calls alternate extrapolation and real update.

    Example::

      opt = extragradient(optax.adam(1e-3))  # the same as extra_adam(1e-3)
      state = opt.init(params)
      for batch in batches:  # two batches per iteration: one per phase
        grads = jax.grad(loss)(params, batch)
        updates, state = opt.update(grads, state, params)
        params = optax.apply_updates(params, updates)

    On an extrapolation call (even calls, from params w_t) the update is `inner(g)` and w_t is saved.
    On the following real-update call (from params w_{t+1/2}) the update is `anchor + inner(g) - params`,
    so the params become w_t + inner(g(w_{t+1/2})). The inner transformation sees w_t as `params` in
    both phases, the point its update is applied from (this matters for weight decay). For a game,
    every player must extrapolate before any real update: see `exvo_jax.optim.games`.

    Args:
      inner: the transformation whose steps are extrapolated (e.g. `optax.adam(...)`).

    Returns:
      A `GradientTransformationExtraArgs`; extra keyword arguments go to `inner.update`. Its `update`
      requires `params`.
    """
    inner = optax.with_extra_args_support(inner)

    def init_fn(params: optax.Params) -> ExtragradientState:
        return ExtragradientState(
            phase=jnp.zeros([], jnp.int32),
            inner_state=inner.init(params),
            anchor=optax.tree.zeros_like(params),  # a fresh buffer: params may be donated beside the state
        )

    def update_fn(
        updates: optax.Updates, state: ExtragradientState, params: optax.Params | None = None, **extra_args
    ) -> tuple[optax.Updates, ExtragradientState]:
        if params is None:
            raise ValueError(_NO_PARAMS)
        extrapolating = state.phase == 0
        anchor = optax.tree.where(extrapolating, params, state.anchor)  # w_t in both phases
        inner_updates, inner_state = inner.update(updates, state.inner_state, anchor, **extra_args)
        from_anchor = jax.tree.map(lambda a, u, p: a + u - p, anchor, inner_updates, params)
        updates = optax.tree.where(extrapolating, inner_updates, from_anchor)
        return updates, ExtragradientState(phase=1 - state.phase, inner_state=inner_state, anchor=anchor)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def extra_adam(
    learning_rate: optax.ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    mu_dtype: jnp.dtype | None = None,
) -> optax.GradientTransformationExtraArgs:
    """ExtraAdam (Gidel et al. 2019): `extragradient(optax.adam(...))` with optax's argument names.

    A schedule is indexed by iteration: both calls of iteration t use `learning_rate(t)`, although
    Adam's own count (its bias correction) rises by 2 per iteration. The reference PyTorch ExtraAdam
    adds eps to sqrt(v) before bias correction, i.e. uses eps / sqrt(1 - b2^t) in optax's terms; the
    two agree except at the level of eps.

    Raises:
      ValueError: on a non-positive constant learning rate, b1 or b2 outside [0, 1), or a negative
        eps or eps_root.
    """
    _check("learning_rate", learning_rate, lambda v: v > 0.0, "> 0")
    for name, value in (("b1", b1), ("b2", b2)):
        _check(name, value, lambda v: 0.0 <= v < 1.0, "in [0, 1)")
    for name, value in (("eps", eps), ("eps_root", eps_root)):
        _check(name, value, lambda v: v >= 0.0, ">= 0")
    return extragradient(
        optax.adam(_per_iteration(learning_rate), b1=b1, b2=b2, eps=eps, eps_root=eps_root, mu_dtype=mu_dtype)
    )


def extra_sgd(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    """Extragradient SGD (Korpelevich): `extragradient(optax.sgd(learning_rate))`, schedules per iteration.

    Raises:
      ValueError: on a non-positive constant learning rate.
    """
    _check("learning_rate", learning_rate, lambda v: v > 0.0, "> 0")
    return extragradient(optax.sgd(_per_iteration(learning_rate)))


def _check(name: str, value: Any, valid: Callable[[float], bool], requirement: str) -> None:
    """Rejects a bad Python number; schedules and arrays (traced under `optax.inject_hyperparams`) pass."""
    if isinstance(value, (int, float)) and not valid(value):
        raise ValueError(f"{name} must be {requirement}, got {value}")


def _per_iteration(learning_rate: optax.ScalarOrSchedule) -> optax.ScalarOrSchedule:
    """A schedule read at the update-call count (2 per iteration) as one indexed by iteration."""
    if callable(learning_rate):
        return lambda count: learning_rate(count // 2)
    return learning_rate
