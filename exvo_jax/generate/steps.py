"""One training iteration of one mel GAN, as a pure function `step(state, pool, rows, count) -> (state, metrics)`.

Iteration t draws a mini-batch (uniformly, with replacement, from the model's `count` pool rows listed in
`rows`) and the latents from `fold_in(state.rng, t)`. Two iterations exist, chosen by `Hyper.optimizer`:

* `adam` (the reference): a generator step, then a discriminator step on the same latents, the fakes made
  again by the updated generator; the EMA of G moves after the generator step.
* `extra_adam`: one joint extragradient iteration of both players (`exvo_jax.optim.extragradient_step`):
  both extrapolate from w_t, then both update from w_t with the gradients at the extrapolated point; each
  phase draws its own batch and latents. The EMA moves after the real update.

Both losses are the relativistic average hinge. Metrics are the losses at the iteration's starting point.
The functions are traced inside the stacked program (`exvo_jax.generate.program`), which jits them.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from jax.sharding import PartitionSpec

from exvo_jax.generate.losses import ema_update, rahinge_discriminator_loss, rahinge_generator_loss
from exvo_jax.generate.state import GanState, Hyper, transforms
from exvo_jax.models.msg_gan import MSGGAN, discriminate_pair, mel_pyramid
from exvo_jax.optim import GameState, Player, extragradient_step

Pool = tuple[jax.Array, jax.Array]  # log-mels [N, n_mels, frames], conditions [N, K]
Step = Callable[[GanState, Pool, jax.Array, jax.Array], tuple[GanState, dict]]


def make_losses(gan: MSGGAN, hyper: Hyper, split_batches: bool = False):
    """(draw, g_loss, d_loss): the batch of a key, and each player's loss at given params on that batch."""
    generator, discriminator = gan
    conditional = generator.num_classes > 0

    def draw(key: jax.Array, pool: Pool, rows: jax.Array, count: jax.Array):
        mels, conditions = pool
        k_rows, k_z = jax.random.split(key)
        picked = rows[jax.random.randint(k_rows, (hyper.batch_size,), 0, count)]  # [B] pool rows
        real = mels[picked][..., None]  # [B, n_mels, frames, 1]
        condition = conditions[picked] if conditional else None  # [B, K]
        z = jax.random.normal(k_z, (hyper.batch_size, generator.latent_size), jnp.float32)  # [B, L]
        batch = (mel_pyramid(real, generator.depth), condition, z)
        if split_batches:  # each mini-batch split over mesh axis `data`; D's batch statistic stays global
            batch = jax.lax.with_sharding_constraint(batch, PartitionSpec("data"))
        return batch

    def fake(g_params, batch):
        _, condition, z = batch
        return generator.apply({"params": g_params}, z, condition)

    def scores(d_params, batch, fakes):
        real_scales, condition, _ = batch
        return discriminate_pair(discriminator, {"params": d_params}, real_scales, fakes, condition, condition)

    def g_loss(g_params, d_params, batch):
        return rahinge_generator_loss(*scores(d_params, batch, fake(g_params, batch)))

    def d_loss(d_params, g_params, batch):
        fakes = jax.lax.stop_gradient(fake(g_params, batch))
        return rahinge_discriminator_loss(*scores(d_params, batch, fakes))

    return draw, g_loss, d_loss


def make_adam_step(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Step:
    """The reference iteration: G step, EMA, then D step on the same real batch and latents."""
    draw, g_loss_fn, d_loss_fn = make_losses(gan, hyper, split_batches)
    tx_g, tx_d = transforms(hyper)

    def step(state: GanState, pool: Pool, rows: jax.Array, count: jax.Array) -> tuple[GanState, dict]:
        batch = draw(jax.random.fold_in(state.rng, state.step), pool, rows, count)
        g_loss, g_grads = jax.value_and_grad(g_loss_fn)(state.g_params, state.d_params, batch)
        updates, g_opt_state = tx_g.update(g_grads, state.g_opt_state, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        d_loss, d_grads = jax.value_and_grad(d_loss_fn)(state.d_params, g_params, batch)
        updates, d_opt_state = tx_d.update(d_grads, state.d_opt_state, state.d_params)
        new = state.replace(
            g_params=g_params,
            d_params=optax.apply_updates(state.d_params, updates),
            ema_params=ema_update(state.ema_params, g_params, hyper.ema_decay),
            g_opt_state=g_opt_state,
            d_opt_state=d_opt_state,
            step=state.step + 1,
        )
        return new, {"g_loss": g_loss, "d_loss": d_loss}

    return step


def make_extragradient_step(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Step:
    """One joint ExtraAdam iteration of both players, a fresh batch and latents per phase, then the EMA."""
    draw, g_loss_fn, d_loss_fn = make_losses(gan, hyper, split_batches)
    tx_g, tx_d = transforms(hyper)

    def step(state: GanState, pool: Pool, rows: jax.Array, count: jax.Array) -> tuple[GanState, dict]:
        def grads_fn(params, key):
            g_params, d_params = params
            batch = draw(key, pool, rows, count)
            g_loss, g_grads = jax.value_and_grad(g_loss_fn)(g_params, d_params, batch)
            d_loss, d_grads = jax.value_and_grad(d_loss_fn)(d_params, g_params, batch)
            return (g_grads, d_grads), {"g_loss": g_loss, "d_loss": d_loss}

        game = GameState(step=state.step, players=(Player(state.g_params, state.g_opt_state, tx_g),
                                                    Player(state.d_params, state.d_opt_state, tx_d)))
        key = jax.random.fold_in(state.rng, state.step)
        game, (metrics, _) = extragradient_step(grads_fn, donate=False)(
            game, jax.random.fold_in(key, 0), jax.random.fold_in(key, 1))
        generator, discriminator = game.players
        new = state.replace(
            g_params=generator.params,
            d_params=discriminator.params,
            ema_params=ema_update(state.ema_params, generator.params, hyper.ema_decay),
            g_opt_state=generator.opt_state,
            d_opt_state=discriminator.opt_state,
            step=game.step,
        )
        return new, metrics

    return step


def make_step(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Step:
    make = make_adam_step if hyper.optimizer == "adam" else make_extragradient_step
    return make(gan, hyper, split_batches)
