"""The two-player training state of one mel GAN, and the static settings its compiled step is built from.

`GanState` holds both players' parameters and optimiser states, the exponential moving average of the
generator (the weights that are sampled from), the iteration count and the model's own PRNG key. The key
never advances: iteration t draws its batch and noise from `fold_in(rng, t)`, so a resumed run draws what
an uninterrupted one would. States of several models stack along a leading axis (one per emotion).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import optax
from flax import struct

from exvo_jax.models.msg_gan import MSGGAN, scale_shapes
from exvo_jax.optim import extra_adam, extragradient


INIT_PRNG = "unsafe_rbg"


class GanState(struct.PyTreeNode):
    """One GAN under training (or a stack of them: every leaf then has a leading model axis)."""

    g_params: dict
    d_params: dict
    ema_params: dict  # EMA of g_params, updated after every generator step
    g_opt_state: optax.OptState
    d_opt_state: optax.OptState
    step: jax.Array  # [] int32 completed iterations
    rng: jax.Array  # [2] uint32 model key; iteration t uses fold_in(rng, t)


@dataclasses.dataclass(frozen=True)
class Hyper:
    """Settings baked into the compiled step (hashable: programs are cached on it; their ranges are checked where
    the track's settings are built, `exvo_jax.tracks.generate.config`)."""

    optimizer: str = "adam"  # "adam" or "extra_adam"
    g_learning_rate: float = 3e-3
    d_learning_rate: float = 3e-4
    b1: float = 0.0
    b2: float = 0.99
    ema_decay: float = 0.999
    batch_size: int = 32
    label_lr_multiplier: float = 1.0  # conditional models: step size of the label embeddings relative to the rest


@functools.lru_cache(maxsize=None)
def transforms(hyper: Hyper) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """(generator, discriminator) optimisers; one object per `hyper`, so the games built on them reuse traces.

    Adam (or ExtraAdam) with the run's betas; with `label_lr_multiplier` != 1 the Adam steps of the label
    embeddings are scaled by it (inside the extragradient wrapper, so both of its phases are).
    """
    def make(learning_rate: float) -> optax.GradientTransformation:
        if hyper.label_lr_multiplier == 1.0:
            adam = extra_adam if hyper.optimizer == "extra_adam" else optax.adam
            return adam(learning_rate, b1=hyper.b1, b2=hyper.b2)
        step = optax.chain(optax.adam(learning_rate, b1=hyper.b1, b2=hyper.b2),
                           optax.masked(optax.scale(hyper.label_lr_multiplier), _label_embeddings))
        return extragradient(step) if hyper.optimizer == "extra_adam" else step

    return make(hyper.g_learning_rate), make(hyper.d_learning_rate)


def _label_embeddings(params) -> dict:
    """True at the leaves of the `label_embed` layers (the conditional MSG-GAN's class embeddings)."""
    return jax.tree_util.tree_map_with_path(
        lambda path, _: any(getattr(entry, "key", None) == "label_embed" for entry in path), params)


def init_state(gan: MSGGAN, hyper: Hyper, rng: jax.Array) -> GanState:
    """A fresh state from the model key `rng` ([2] uint32 threefry): weights N(0, 1) (equalised lr), EMA = G.

    The weights are drawn with XLA's bit generator (`INIT_PRNG`): flax draws each parameter with its own call,
    and threefry, unrolled once per call, made this initialisation take longer to compile on CPU than the
    training step (13 s of CPU against 3 s with the bit generator, for the depth-4 GAN). Its bits depend on the
    backend, so a seed gives other initial weights on CPU and on an accelerator; training draws use threefry.
    """
    generator, discriminator = gan
    batch = 2
    z = jnp.zeros((batch, generator.latent_size), jnp.float32)
    condition = jnp.zeros((batch, generator.num_classes), jnp.float32) if generator.num_classes else None
    scales = [jnp.zeros((batch, h, w, 1), jnp.float32) for h, w in scale_shapes(generator.depth, generator.base_shape)]
    init_key = jax.random.wrap_key_data(jax.random.split(rng).reshape(-1), impl=INIT_PRNG)
    g_params = generator.init(jax.random.fold_in(init_key, 0), z, condition)["params"]
    d_params = discriminator.init(jax.random.fold_in(init_key, 1), scales, condition)["params"]
    tx_g, tx_d = transforms(hyper)
    return GanState(
        g_params=g_params,
        d_params=d_params,
        ema_params=jax.tree.map(jnp.copy, g_params),  # its own buffers: the state is donated leaf by leaf
        g_opt_state=tx_g.init(g_params),
        d_opt_state=tx_d.init(d_params),
        step=jnp.zeros([], jnp.int32),
        rng=jax.random.fold_in(rng, 2),
    )
