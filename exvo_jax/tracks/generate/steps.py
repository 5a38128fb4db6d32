"""One training iteration of one mel GAN, as a pure function `step(state, pool, rows, count) -> (state, metrics)`.

Iteration t draws a mini-batch (uniformly, with replacement, from the model's `count` pool rows listed in
`rows`) and the latents from `fold_in(state.rng, t)`. Two iterations exist, chosen by `Hyper.optimizer`:

* `adam` (the reference): a generator step, then a discriminator step on the same latents, the fakes made
  again by the updated generator; the EMA of G moves after the generator step.
* `extra_adam`: one joint extragradient iteration of both players (`exvo_jax.optim.extragradient_step`):
  both extrapolate from w_t, then both update from w_t with the gradients at the extrapolated point; each
  phase draws its own batch and latents. The EMA moves after the real update.

Both losses are the relativistic average hinge. Metrics are the losses at the iteration's starting point.
The functions are traced inside the stacked program (`exvo_jax.tracks.generate.program`), which jits them.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from jax.sharding import PartitionSpec

from exvo_jax.tracks.generate.losses import ema_update, rahinge_discriminator_loss, rahinge_generator_loss
from exvo_jax.tracks.generate.state import GanState, Hyper, transforms
from exvo_jax.models.msg_gan import MSGGAN, mel_pyramid
from exvo_jax.optim import GameState, Player, extragradient_step

Pool = tuple[jax.Array, jax.Array]  # log-mels [N, n_mels, frames], conditions [N, K]
Batch = tuple[list, jax.Array | None, jax.Array]  # real pyramid (smallest scale first), conditions [B, K] or None, z [B, L]
Step = Callable[[GanState, Pool, jax.Array, jax.Array], tuple[GanState, dict]]


def make_draw(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Callable[..., Batch]:
    """`draw(key, pool, rows, count) -> batch`: `batch_size` rows with replacement from the model's rows, and z."""
    generator = gan.generator
    conditional = generator.num_classes > 0

    def draw(key: jax.Array, pool: Pool, rows: jax.Array, count: jax.Array) -> Batch:
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

    return draw


def _players(gan: MSGGAN):
    """(fake(g, batch), critic(d, scales, condition)): G's pyramid and D's scores `[B]` of one set."""
    generator, discriminator = gan

    def fake(g_params, batch: Batch) -> list:
        _, condition, z = batch
        return generator.apply({"params": g_params}, z, condition)

    def critic(d_params, scales, condition) -> jax.Array:
        return discriminator.apply({"params": d_params}, scales, condition)

    return fake, critic


def adam_iteration(gan: MSGGAN, tx_g: optax.GradientTransformation, tx_d: optax.GradientTransformation,
                   ema_decay: float) -> Callable[[GanState, Batch], tuple[GanState, dict]]:
    """`iterate(state, batch)`: the reference iteration on a given batch: G step, EMA, then D step.

    D's weights do not change during the G step, so D runs once on the real pyramid: its scores serve the
    G loss and its VJP gives the real half of D's gradient. D sees real and fake in separate calls (each with
    its own minibatch statistic), so the G step differentiates through the fake call only. The D step's fakes
    come from the updated G with the same latents.
    """
    fake, critic = _players(gan)

    def iterate(state: GanState, batch: Batch) -> tuple[GanState, dict]:
        reals, condition, _ = batch
        d_real, real_vjp = jax.vjp(lambda d: critic(d, reals, condition), state.d_params)  # [B]

        def g_loss_fn(g_params):
            return rahinge_generator_loss(d_real, critic(state.d_params, fake(g_params, batch), condition))

        g_loss, g_grads = jax.value_and_grad(g_loss_fn)(state.g_params)
        updates, g_opt_state = tx_g.update(g_grads, state.g_opt_state, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        fakes = fake(g_params, batch)
        d_fake, fake_vjp = jax.vjp(lambda d: critic(d, fakes, condition), state.d_params)
        d_loss, (real_ct, fake_ct) = jax.value_and_grad(rahinge_discriminator_loss, argnums=(0, 1))(d_real, d_fake)
        d_grads = jax.tree.map(jnp.add, real_vjp(real_ct)[0], fake_vjp(fake_ct)[0])
        updates, d_opt_state = tx_d.update(d_grads, state.d_opt_state, state.d_params)
        new = state.replace(
            g_params=g_params,
            d_params=optax.apply_updates(state.d_params, updates),
            ema_params=ema_update(state.ema_params, g_params, ema_decay),
            g_opt_state=g_opt_state,
            d_opt_state=d_opt_state,
            step=state.step + 1,
        )
        return new, {"g_loss": g_loss, "d_loss": d_loss}

    return iterate


def joint_gradients(gan: MSGGAN) -> Callable:
    """`grads(params, batch) -> ((g_grads, d_grads), {"g_loss", "d_loss"})`: each player's gradient of its
    own loss at the same point, from one D pass on the real pyramid and one on the fakes (D's loss treats
    the fakes as constants)."""
    fake, critic = _players(gan)

    def grads(params, batch: Batch):
        g_params, d_params = params
        reals, condition, _ = batch
        d_real, real_vjp = jax.vjp(lambda d: critic(d, reals, condition), d_params)
        fakes, g_vjp = jax.vjp(lambda g: fake(g, batch), g_params)
        d_fake, fake_vjp = jax.vjp(lambda d, f: critic(d, f, condition), d_params, fakes)
        g_loss, g_ct = jax.value_and_grad(rahinge_generator_loss, argnums=1)(d_real, d_fake)
        g_grads = g_vjp(fake_vjp(g_ct)[1])[0]
        d_loss, (real_ct, fake_ct) = jax.value_and_grad(rahinge_discriminator_loss, argnums=(0, 1))(d_real, d_fake)
        d_grads = jax.tree.map(jnp.add, real_vjp(real_ct)[0], fake_vjp(fake_ct)[0])
        return (g_grads, d_grads), {"g_loss": g_loss, "d_loss": d_loss}

    return grads


def make_adam_step(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Step:
    """The reference iteration (`adam_iteration`) on the batch and latents of iteration `state.step`."""
    draw = make_draw(gan, hyper, split_batches)
    iterate = adam_iteration(gan, *transforms(hyper), hyper.ema_decay)

    def step(state: GanState, pool: Pool, rows: jax.Array, count: jax.Array) -> tuple[GanState, dict]:
        return iterate(state, draw(jax.random.fold_in(state.rng, state.step), pool, rows, count))

    return step


def make_extragradient_step(gan: MSGGAN, hyper: Hyper, split_batches: bool = False) -> Step:
    """One joint ExtraAdam iteration of both players, a fresh batch and latents per phase, then the EMA."""
    draw = make_draw(gan, hyper, split_batches)
    grads = joint_gradients(gan)
    tx_g, tx_d = transforms(hyper)

    def step(state: GanState, pool: Pool, rows: jax.Array, count: jax.Array) -> tuple[GanState, dict]:
        def grads_fn(params, key):
            return grads(params, draw(key, pool, rows, count))

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
