"""Optimisers for min-max games, written as optax transformations.

`extragradient` wraps any optax transformation (ExtraAdam is `extra_adam`); `games` runs all players
of a game through one joint extragradient iteration, each phase on its own inputs.
"""

from exvo_jax.optim.extragradient import ExtragradientState, extra_adam, extra_sgd, extragradient
from exvo_jax.optim.games import GameState, GradsFn, Player, extragradient_step

__all__ = [
    "ExtragradientState",
    "GameState",
    "GradsFn",
    "Player",
    "extra_adam",
    "extra_sgd",
    "extragradient",
    "extragradient_step",
]
