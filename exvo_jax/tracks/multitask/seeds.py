"""Several seeds trained in one compiled program: one jitted call runs a whole epoch for every seed.

Each seed's epoch is a `lax.scan` over its reshuffled mini-batches (the last partial batch is padded
and masked, never dropped), followed by the validation loss and the early-stopping update (patience,
min delta); a stopped seed's state passes through unchanged. Seeds are stacked along a leading axis
sharded over the mesh axis `seeds`; under `exvo_jax.parallel.per_device_map` each device runs only
its own seeds, with `jax.vmap` (accelerators) or one after another with `lax.map` (CPU, where batched
products over per-seed weight copies lose the cache). Both give the same result up to float rounding
(tested to 1e-5 relative). Where the mesh axis `data` has several devices, training rows and every
mini-batch are split over it (data parallelism within each seed).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, PartitionSpec

from exvo_jax.models.multitask import MultitaskNet, task_losses, uncertainty_weighted
from exvo_jax.parallel import one_device_mesh, pad_leading, per_device_map, pick_strategy


@dataclasses.dataclass(frozen=True)
class Hyper:
    """Static training settings baked into the compiled program (their ranges are checked where the track's
    settings are built, `exvo_jax.tracks.multitask.config`)."""

    batch_size: int = 8
    max_epochs: int = 20
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    intensity_loss: str = "mse"
    input_dropout: float = 0.0  # probability of zeroing each (standardised) input feature of a training row
    decay_steps: int = 0  # > 0: the learning rate follows a cosine from its value down to 0 over this many steps
    class_weights: tuple[tuple[str, tuple[float, ...]], ...] = ()  # (task, per-class loss weights); () = unweighted


class Stopping(flax.struct.PyTreeNode):
    """Early stopping on the validation loss: stop after `patience` epochs without a gain > `min_delta`.

    Passed to the program as data, so changing it does not recompile.
    """

    patience: jax.Array  # [] int32
    min_delta: jax.Array  # [] float32

    @classmethod
    def create(cls, patience: int = 5, min_delta: float = 0.1) -> Stopping:
        if patience < 1 or min_delta < 0:
            raise ValueError(f"patience must be >= 1 and min_delta >= 0, got {patience} and {min_delta}")
        return cls(jnp.array(patience, jnp.int32), jnp.array(min_delta, jnp.float32))


def optimizer(hyper: Hyper) -> optax.GradientTransformation:
    """Adam with coupled L2 weight decay: the decay term is added to the gradient before Adam. The learning
    rate is constant, or with `decay_steps` a cosine down to 0 at that step (the count lives in the state)."""
    rate = (optax.cosine_decay_schedule(hyper.learning_rate, hyper.decay_steps) if hyper.decay_steps
            else hyper.learning_rate)
    return optax.chain(optax.add_decayed_weights(hyper.weight_decay), optax.adam(rate))


class SeedState(flax.struct.PyTreeNode):
    """Training state of one seed (stacked over seeds along axis 0)."""

    params: dict
    opt_state: optax.OptState
    best_params: dict  # parameters at the lowest validation loss so far
    best_loss: jax.Array  # [] lowest validation loss so far
    best_epoch: jax.Array  # [] int32, -1 before the first epoch
    stop_reference: jax.Array  # [] the early-stopping reference loss (last improvement by > min_delta)
    bad_epochs: jax.Array  # [] int32 epochs without such an improvement
    stopped: jax.Array  # [] bool
    epoch: jax.Array  # [] int32 epochs run
    key: jax.Array  # [2] uint32 seed key (shuffling)
    train_loss: jax.Array  # [E] mean training loss per epoch (NaN where not run)
    val_loss: jax.Array  # [E] validation loss per epoch
    val_task_loss: jax.Array  # [E, T] unweighted validation loss per task


def init_state(model: MultitaskNet, tx: optax.GradientTransformation, seed: int, dim: int, max_epochs: int) -> SeedState:
    key = jax.random.PRNGKey(seed)
    params = model.init(jax.random.fold_in(key, 0), jnp.zeros((1, dim), jnp.float32))["params"]
    nan = jnp.full((max_epochs,), jnp.nan, jnp.float32)
    return SeedState(
        params=params,
        opt_state=tx.init(params),
        best_params=params,
        best_loss=jnp.array(jnp.inf, jnp.float32),
        best_epoch=jnp.array(-1, jnp.int32),
        stop_reference=jnp.array(jnp.inf, jnp.float32),
        bad_epochs=jnp.array(0, jnp.int32),
        stopped=jnp.array(False),
        epoch=jnp.array(0, jnp.int32),
        key=jax.random.fold_in(key, 1),
        train_loss=nan,
        val_loss=nan,
        val_task_loss=jnp.full((max_epochs, len(model.tasks)), jnp.nan, jnp.float32),
    )


def init_states(model: MultitaskNet, tx: optax.GradientTransformation, seeds: Sequence[int], dim: int,
                max_epochs: int) -> SeedState:
    """`init_state` of every seed, stacked along a leading axis on host (numpy), ready to be placed on a mesh."""
    states = [init_state(model, tx, s, dim, max_epochs) for s in seeds]
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *states)


def batch_plan(key: jax.Array, n: int, batch_size: int) -> tuple[jax.Array, jax.Array]:
    """A fresh permutation cut into batches: indices [nb, B] and a 0/1 mask [nb, B] of the padded tail."""
    batches = -(-n // batch_size)
    order = jax.random.permutation(key, n)  # [N]
    padded = jnp.zeros((batches * batch_size,), jnp.int32).at[:n].set(order)
    mask = (jnp.arange(batches * batch_size) < n).astype(jnp.float32)
    return padded.reshape(batches, batch_size), mask.reshape(batches, batch_size)


def make_loss_fn(model: MultitaskNet, hyper: Hyper) -> Callable:
    """loss(params, x [B, D], targets, mask [B]) -> (weighted loss, per-task losses [T])."""

    def loss_fn(params, x, targets, mask):
        outputs, log_var = model.apply({"params": params}, x)
        losses = task_losses(model.tasks, outputs, targets, mask, hyper.intensity_loss, dict(hyper.class_weights))  # [T]
        return uncertainty_weighted(losses, log_var), losses

    return loss_fn


def make_seed_epoch(model: MultitaskNet, tx: optax.GradientTransformation, hyper: Hyper, rows: int | None = None,
                    split_batches: bool = False) -> Callable:
    """seed_epoch(state, train, val, stopping) -> state for one seed; train/val = (features [N, D], {task: labels}).

    `rows`: how many leading training rows are real (the rest pad the rows to a multiple of the `data`
    axis and are never drawn); default all. `split_batches` splits every mini-batch over mesh axis `data`.
    """
    loss_fn = make_loss_fn(model, hyper)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def run(state: SeedState, train, val, stopping: Stopping) -> SeedState:
        x_train, y_train = train
        n = x_train.shape[0] if rows is None else rows
        epoch_key = jax.random.fold_in(state.key, state.epoch)
        index, mask = batch_plan(epoch_key, n, hyper.batch_size)
        dropout_keys = jax.random.split(jax.random.fold_in(epoch_key, 1), index.shape[0])  # one per batch

        def step(carry, batch):
            params, opt_state = carry
            idx, m, dropout_key = batch  # [B], [B], key
            xb, targets = x_train[idx], {k: v[idx] for k, v in y_train.items()}  # gathered across devices
            if hyper.input_dropout:
                keep = jax.random.bernoulli(dropout_key, 1.0 - hyper.input_dropout, xb.shape)
                xb = jnp.where(keep, xb / (1.0 - hyper.input_dropout), 0.0)
            if split_batches:
                xb, targets, m = jax.lax.with_sharding_constraint((xb, targets, m), PartitionSpec("data"))
            (loss, _), grads = grad_fn(params, xb, targets, m)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (state.params, state.opt_state), (index, mask, dropout_keys))
        x_val, y_val = val
        val_loss, val_tasks = loss_fn(params, x_val, y_val, jnp.ones((x_val.shape[0],), jnp.float32))
        improved = val_loss < state.best_loss
        significant = state.stop_reference - val_loss > stopping.min_delta
        bad_epochs = jnp.where(significant, 0, state.bad_epochs + 1)
        e = state.epoch
        return state.replace(
            params=params,
            opt_state=opt_state,
            best_params=jax.tree_util.tree_map(lambda new, old: jnp.where(improved, new, old), params, state.best_params),
            best_loss=jnp.where(improved, val_loss, state.best_loss),
            best_epoch=jnp.where(improved, e, state.best_epoch),
            stop_reference=jnp.where(significant, val_loss, state.stop_reference),
            bad_epochs=bad_epochs,
            stopped=(bad_epochs >= stopping.patience) | (e + 1 >= hyper.max_epochs),
            epoch=e + 1,
            train_loss=state.train_loss.at[e].set(jnp.mean(losses)),
            val_loss=state.val_loss.at[e].set(val_loss),
            val_task_loss=state.val_task_loss.at[e].set(val_tasks),
        )

    def seed_epoch(state: SeedState, train, val, stopping: Stopping) -> SeedState:
        return jax.lax.cond(state.stopped, lambda s: s, lambda s: run(s, train, val, stopping), state)

    return seed_epoch


@functools.lru_cache(maxsize=16)
def epoch_program(model: MultitaskNet, hyper: Hyper, strategy: str, mesh: Mesh | None = None,
                  rows: int | None = None) -> Callable:
    """A jitted `program(states, train, val, stopping) -> states` running one epoch of every (non-stopped) seed.

    States are stacked over seeds, sharded over mesh axis `seeds` (default: one device); every device
    runs its own seeds with `strategy` ("map" or "vmap"). The states are donated. `rows` as in
    `make_seed_epoch`. Cached per (model, settings, strategy, mesh, rows), so repeated runs in one
    process compile once per shape.
    """
    mesh = one_device_mesh() if mesh is None else mesh
    split_batches = mesh.shape.get("data", 1) > 1
    seed_epoch = make_seed_epoch(model, optimizer(hyper), hyper, rows, split_batches)
    program = per_device_map(seed_epoch, mesh, "seeds", in_axes=(0, None, None, None), strategy=pick_strategy(strategy))
    return jax.jit(program, donate_argnums=0)


def final_params(states: SeedState, restore: str):
    """Stacked parameters to evaluate: the best validation epoch ("best") or the last one ("last")."""
    if restore == "best":
        return states.best_params
    if restore == "last":
        return states.params
    raise ValueError(f"restore must be 'best' or 'last', got {restore!r}")


@functools.lru_cache(maxsize=16)
def make_predict(model: MultitaskNet, mesh: Mesh | None = None) -> Callable:
    """Jitted predict(stacked params, features [N, D]) -> {task: [S, N, k]}, each device for its own seeds."""

    def one(params, x):
        return model.apply({"params": params}, x)[0]

    mesh = one_device_mesh() if mesh is None else mesh
    return jax.jit(per_device_map(one, mesh, "seeds", in_axes=(0, None), strategy="vmap"))


HISTORY_FIELDS = ("train_loss", "val_loss", "val_task_loss")  # [S, E, ...]: one entry per epoch


def resized(states: SeedState, seeds: int, multiple: int, epochs: int) -> SeedState:
    """Host states (numpy) cut to the first `seeds` seeds, padded with inert copies of seed 0 to a multiple of
    `multiple` and with histories extended with NaN to `epochs`: a checkpoint of another mesh or budget."""
    states, _ = pad_leading(jax.tree_util.tree_map(lambda x: np.asarray(x)[:seeds], states), multiple, fill="first")

    def extend(history):  # [S, E', ...] -> [S, epochs, ...]
        shape = (history.shape[0], epochs - history.shape[1], *history.shape[2:])
        return np.concatenate([history, np.full(shape, np.nan, history.dtype)], axis=1)

    return states.replace(**{name: extend(getattr(states, name)) for name in HISTORY_FIELDS
                             if getattr(states, name).shape[1] < epochs})


def with_stopping(states: SeedState, patience: int, max_epochs: int) -> SeedState:
    """`stopped` recomputed for the current patience and epoch budget (both may change on resume)."""
    return states.replace(stopped=(states.bad_epochs >= patience) | (states.epoch >= max_epochs))
