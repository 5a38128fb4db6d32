"""Joint extragradient steps for differentiable games, such as a GAN's generator against its discriminator.

On a game, extragradient must move all players together: each extrapolates from w_t with the gradient
of its own loss at w_t, the gradients are then taken at the joint extrapolated point, and each player's
real update is applied from its own w_t. Doing one player's extragradient at a time with the others
fixed is a different method that loses the guarantee. Each phase takes its own inputs, so a GAN draws a
fresh minibatch and fresh noise for the extrapolation and for the update.

The state is a pytree of players, each holding its params, optimiser state and optax transformation
(as flax's `TrainState`); every transformation must be an `extragradient` one (`extra_adam`, ...),
possibly nested inside another (e.g. `optax.inject_hyperparams`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from exvo_jax.optim.extragradient import ExtragradientState

# grads_fn(params, inputs) -> (grads, aux): `params` and `grads` are tuples in player order, and
# grads[i] is the gradient of player i's own loss with respect to params[i].
GradsFn = Callable[[tuple[optax.Params, ...], Any], tuple[tuple[optax.Updates, ...], Any]]


class Player(struct.PyTreeNode):
    """One player of a game: its params, its optimiser state, and its transformation.

    The transformation is static and compared by identity, as in flax's `TrainState`: build it once and
    reuse it (a restored checkpoint should be restored into a state that holds it), or jit recompiles.
    """

    params: optax.Params
    opt_state: optax.OptState
    tx: optax.GradientTransformation = struct.field(pytree_node=False)

    @classmethod
    def create(cls, params: optax.Params, tx: optax.GradientTransformation) -> Player:
        return cls(params=params, opt_state=tx.init(params), tx=tx)

    def apply_gradients(self, grads: optax.Updates) -> Player:
        updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
        return self.replace(params=optax.apply_updates(self.params, updates), opt_state=opt_state)


class GameState(struct.PyTreeNode):
    """The players of a game and the number of completed iterations (one extrapolation + one update each)."""

    step: jax.Array
    players: tuple[Player, ...]

    @classmethod
    def create(cls, *players: Player) -> GameState:
        for i, player in enumerate(players):
            nodes = jax.tree.leaves(player.opt_state, is_leaf=_is_extragradient_state)
            if not any(_is_extragradient_state(node) for node in nodes):
                raise ValueError(f"player {i}'s transformation is not an extragradient one (e.g. extra_adam)")
        return cls(step=jnp.zeros([], jnp.int32), players=tuple(players))

    @property
    def params(self) -> tuple[optax.Params, ...]:
        return tuple(player.params for player in self.players)

    def apply_gradients(self, grads: tuple[optax.Updates, ...]) -> GameState:
        """One `update` call for every player: the extrapolation or the real update, by the phase they are in."""
        if len(grads) != len(self.players):
            raise ValueError(f"{len(grads)} gradients for {len(self.players)} players")
        return self.replace(players=tuple(p.apply_gradients(g) for p, g in zip(self.players, grads)))


def extragradient_step(
    grads_fn: GradsFn, *, donate: bool = True
) -> Callable[[GameState, Any, Any], tuple[GameState, tuple[Any, Any]]]:
    """A jitted joint extragradient iteration `step(state, extrapolation_inputs, update_inputs)`.

    Example (a GAN; `g_loss_fn` and `d_loss_fn` are each player's own loss)::

      def grads_fn(params, inputs):
        g, d = params
        batch, key = inputs
        d_loss, d_grads = jax.value_and_grad(d_loss_fn, argnums=1)(g, d, batch, key)
        g_loss, g_grads = jax.value_and_grad(g_loss_fn)(g, d, batch, key)
        return (g_grads, d_grads), {"g_loss": g_loss, "d_loss": d_loss}

      state = GameState.create(Player.create(g, extra_adam(3e-3, 0.0, 0.99)),
                               Player.create(d, extra_adam(3e-4, 0.0, 0.99)))
      step = extragradient_step(grads_fn)
      state, (aux_t, aux_half) = step(state, (batch0, key0), (batch1, key1))

    Args:
      grads_fn: returns every player's gradient of its own loss at the given params, and any aux.
      donate: donate the incoming state's buffers to the result (the caller must not reuse it).

    Returns:
      `step`, which returns the state after one iteration and the aux of both phases: `aux_t` at w_t
      (the losses of the current params) and `aux_half` at the extrapolated point. Each call traces
      `grads_fn` twice, once per phase.
    """

    def step(state: GameState, extrapolation_inputs: Any, update_inputs: Any) -> tuple[GameState, tuple[Any, Any]]:
        grads, aux_t = grads_fn(state.params, extrapolation_inputs)
        half = state.apply_gradients(grads)  # every player at w_{t+1/2}
        grads, aux_half = grads_fn(half.params, update_inputs)
        new = half.apply_gradients(grads)  # every player at w_t + inner(g(w_{t+1/2}))
        return new.replace(step=state.step + 1), (aux_t, aux_half)

    return jax.jit(step, donate_argnums=(0,) if donate else ())


def _is_extragradient_state(node: Any) -> bool:
    return isinstance(node, ExtragradientState)
