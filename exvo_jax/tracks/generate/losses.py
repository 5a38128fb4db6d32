"""Adversarial losses and generator weight averaging for the Generate track.

The relativistic average hinge (RaHinge) compares each real score with the mean fake score and each
fake score with the mean real score; there is no gradient penalty. Scores are `[B]` discriminator
outputs computed on real and fake separately (one D call per set: `exvo_jax.tracks.generate.steps`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def rahinge_discriminator_loss(d_real: jax.Array, d_fake: jax.Array) -> jax.Array:
    """mean(relu(1 - (Dr - mean Df))) + mean(relu(1 + (Df - mean Dr))): `[B]`, `[B]` -> scalar."""
    real_vs_fake = d_real - jnp.mean(d_fake)
    fake_vs_real = d_fake - jnp.mean(d_real)
    return jnp.mean(jax.nn.relu(1.0 - real_vs_fake)) + jnp.mean(jax.nn.relu(1.0 + fake_vs_real))


def rahinge_generator_loss(d_real: jax.Array, d_fake: jax.Array) -> jax.Array:
    """The discriminator loss with roles swapped: mean(relu(1 + (Dr - mean Df))) + mean(relu(1 - (Df - mean Dr)))."""
    return rahinge_discriminator_loss(d_fake, d_real)


def ema_update(ema_params, params, decay: float = 0.999):
    """Exponential moving average of a parameter tree: `decay * ema + (1 - decay) * params`, leaf by leaf."""
    if isinstance(decay, (int, float)) and not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must lie in [0, 1], got {decay}")
    return jax.tree.map(lambda e, p: (decay * e + (1.0 - decay) * p).astype(e.dtype), ema_params, params)
