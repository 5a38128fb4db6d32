"""Many GANs in one compiled program: `steps` iterations of every stacked model per call.

The per-emotion baseline is ten independent GANs of the same shape. Their states stack along a leading
model axis, sharded over the mesh axis `seeds` (the mesh's axis for independent stacked work); under
`exvo_jax.parallel.per_device_map` every device runs only its own models, with `jax.vmap` on accelerators
or one after another with `lax.map` on CPU (`pick_strategy`); a device with one model runs it without
either. Each model runs a `lax.scan` of its iterations over the shared log-mel pool, through its own row
list (one iteration per call on CPU: see `iterations_per_call`, which also applies to `lax.map` over several
models there: measured 9x slower per model-iteration than one model per call, for the tiny GAN). A
conditional run is the same program with one model. Where mesh axis `data` has several devices, every
mini-batch is split over it (D's minibatch statistic stays that of the whole batch).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from exvo_jax.tracks.generate.state import GanState, Hyper, init_state
from exvo_jax.tracks.generate.steps import make_step
from exvo_jax.models.msg_gan import MSGGAN
from exvo_jax.parallel import one_device_mesh, pad_leading, per_device_map, pick_strategy, sharded


# XLA:CPU hands large convolutions to YNNPACK, whose weight-gradient convolutions (a window as large as the
# image) ran 3-5x slower than Eigen's in `benchmarks/generate.py`; an empty YNN fusion list keeps every
# convolution on Eigen. Set per program, on CPU only.
CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def compiler_options(mesh: Mesh) -> dict | None:
    """`CPU_COMPILER_OPTIONS` for a mesh of CPU devices, else None."""
    return CPU_COMPILER_OPTIONS if mesh.devices.flat[0].platform == "cpu" else None


def model_strategy(strategy: str, models_per_device: int) -> str:
    """How a device runs its models: `pick_strategy` (map on CPU, vmap on accelerators); one model: vmap of one.

    A single model per device takes the vmap path, which is the model itself, with no loop around it.
    """
    return "vmap" if models_per_device == 1 else pick_strategy(strategy)


def iterations_per_call(log_every: int, backend: str | None = None) -> int:
    """Iterations scanned inside one call: `log_every` on accelerators, 1 on CPU.

    XLA:CPU runs a convolution's weight gradient inside a loop body without its fast kernels (its layout
    is not canonicalised there; jax-ml/jax#12868): measured on the depth-4 MSG-GAN, one iteration inside a
    scan took 15x as long as the same iteration called from the host. On CPU the host therefore loops over
    iterations; a call's dispatch costs microseconds against a step's tens of milliseconds.
    """
    return 1 if (backend or jax.default_backend()) == "cpu" else log_every


@functools.lru_cache(maxsize=16)
def chunk_program(gan: MSGGAN, hyper: Hyper, steps: int, strategy: str = "vmap",
                  mesh: Mesh | None = None) -> Callable:
    """Jitted `program(states, pool, index, counts) -> (states, metrics)`, `steps` iterations of every model.

    `states`: stacked `GanState` [S] (donated); `pool`: (log-mels [N, M, T], conditions [N, K]), replicated;
    `index` [S, n_max] and `counts` [S]: each model's pool rows. `metrics`: {"g_loss", "d_loss"} [S, steps].
    `strategy`: "map" or "vmap" (see `model_strategy`). Cached per (model, settings, steps, strategy, mesh):
    a run compiles once per distinct chunk length.
    """
    mesh = one_device_mesh() if mesh is None else mesh
    step = make_step(gan, hyper, split_batches=mesh.shape.get("data", 1) > 1)

    def run(state: GanState, pool, rows: jax.Array, count: jax.Array):
        if steps == 1:  # no loop at all (see `iterations_per_call`)
            state, metrics = step(state, pool, rows, count)
            return state, jax.tree.map(lambda m: m[None], metrics)

        def body(carry, _):
            return step(carry, pool, rows, count)

        return jax.lax.scan(body, state, None, length=steps)

    mapped = per_device_map(run, mesh, "seeds", in_axes=(0, None, 0, 0), strategy=strategy)
    return jax.jit(mapped, donate_argnums=0, compiler_options=compiler_options(mesh))


def model_keys(seed: int, identities: Sequence[int]) -> jax.Array:
    """[S, 2] keys: model s is keyed by `identities[s]` (its emotion index), so it trains alike alone or stacked."""
    base = jax.random.PRNGKey(seed)
    return jnp.stack([jax.random.fold_in(base, i) for i in identities])


def init_states(gan: MSGGAN, hyper: Hyper, keys: jax.Array, mesh: Mesh | None = None) -> GanState:
    """Stacked fresh states [S'] sharded over `seeds`: S models padded with copies of the first to a multiple.

    Each model is initialised by one compiled `init_state` (shared by every stack size) and the states are
    stacked afterwards: flax's initialisation draws every weight with its own threefry call, which XLA:CPU
    compiles slowly, so it is compiled once, not once per number of models.
    """
    mesh = one_device_mesh() if mesh is None else mesh
    keys, _ = pad_leading(keys, mesh.shape["seeds"], fill="first")
    states = [_init(gan, hyper, key) for key in keys]
    return jax.jit(lambda *trees: jax.tree.map(lambda *xs: jnp.stack(xs), *trees),
                   out_shardings=sharded(mesh, "seeds"))(*states)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init(gan: MSGGAN, hyper: Hyper, key: jax.Array) -> GanState:
    return init_state(gan, hyper, key)


def stacked_rows(index, counts, multiple: int):
    """Row lists padded like the states (copies of the first model's)."""
    (index, counts), _ = pad_leading((index, counts), multiple, fill="first")
    return index, counts


@functools.partial(jax.jit, static_argnames=("gan",))
def generate(gan: MSGGAN, g_params, z: jax.Array, condition: jax.Array | None = None) -> jax.Array:
    """Log-mels [n, n_mels, frames] from one generator's params (use the EMA ones), latents z [n, L]."""
    return gan.generator.apply({"params": g_params}, z, condition)[-1][..., 0]
