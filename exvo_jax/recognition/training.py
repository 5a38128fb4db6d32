"""Supervised training of the recognition model (CNN + LSTM on framed clips): AdamW, best-by-validation CCC.

The few-shot track trains its speaker-independent model with it, and the Generate track the emotion
classifier whose feature space its FID is measured in.

`fit(settings, run, train, val)` trains on framed Train clips and keeps the parameters of the epoch with
the best validation mean CCC; it stops after `patience` epochs without improvement. Every epoch is
checkpointed through the run layer (state, best parameters, counters, history) and its scalars go to
the run's metrics log; a rerun in the same workdir resumes exactly where it stopped: batches come from
the input pipeline's `epoch_loader`, whose order depends only on (seed, epoch).

Training is data-parallel on the `data` axis of `settings.mesh`: every global batch of
`settings.train.batch_size` rows is split over that axis, parameters and optimiser state are replicated,
and jit's SPMD partitioning makes the gradient and the batch-norm statistics (sums over the batch
axis) global. Every process collates the same global batch (all of them hold the framed clips) and
places only the rows of its own devices, so the batches do not depend on the number of processes.
Validation predictions are sharded over the same axis (`exvo_jax.recognition.inference`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import grain.python as grain
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from jax.sharding import Mesh
from tqdm import tqdm

from exvo_jax.data.pipeline import IN_MEMORY, epoch_loader
from exvo_jax.metrics import mean_ccc
from exvo_jax.models.cnn_lstm import CnnLstm, last_valid
from exvo_jax.parallel import mesh_from_config, place, replicated, sharded, to_host
from exvo_jax.recognition.inference import DATA_AXIS, predict_clips
from exvo_jax.recognition.settings import RecognitionSettings
from exvo_jax.run import Json, Run


@dataclasses.dataclass(frozen=True)
class FramedSet:
    """Framed clips `[T_i, 1600]` with targets `[N, K]`; a random-access source of records for the input pipeline."""

    frames: list[np.ndarray]
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {"frames": self.frames[index], "targets": self.targets[index]}  # [T, 1600], [K]


class TrainState(struct.PyTreeNode):
    """What the jitted step updates: parameters, BN running statistics, optimiser state."""

    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    tx: optax.GradientTransformation = struct.field(pytree_node=False)


class Progress(struct.PyTreeNode):
    """Host-side bookkeeping: epochs completed and the best epoch's weights and score so far."""

    epoch: np.ndarray
    best_epoch: np.ndarray  # -1 before the first epoch
    best_score: np.ndarray  # best validation mean CCC (-inf before the first epoch)
    best_params: Any
    best_batch_stats: Any


def build_model(settings: RecognitionSettings) -> CnnLstm:
    return CnnLstm(hidden=settings.model.hidden, outputs=settings.model.outputs,
                   channels=tuple(settings.model.channels))


def train_mesh(settings: RecognitionSettings) -> Mesh:
    """The mesh of `settings.mesh`; a size that does not fit the devices, the global batch
    `train.batch_size` or the evaluation batch `eval_batch_size` is a `DataError`."""
    return mesh_from_config(settings.mesh, [
        (settings.train.batch_size, DATA_AXIS, "train.batch_size (the global batch)"),
        (settings.eval_batch_size, DATA_AXIS, "eval_batch_size")])


@functools.lru_cache(maxsize=None)
def init_program(model: CnnLstm, learning_rate: float, weight_decay: float, mesh: Mesh | None = None):
    """Jitted `(key, frames, mask) -> (step, params, batch_stats, opt_state)` (replicated over `mesh`) and the
    optimiser."""
    tx = optax.adamw(learning_rate, weight_decay=weight_decay)

    def init(key, frames, mask):  # inputs as arguments: XLA would constant-fold convolutions of constants
        variables = model.init(key, frames, mask)
        return jnp.zeros((), jnp.int32), variables["params"], variables["batch_stats"], tx.init(variables["params"])

    return jax.jit(init, out_shardings=None if mesh is None else replicated(mesh)), tx


def init_state(model: CnnLstm, settings: RecognitionSettings,
               mesh: Mesh | None = None) -> tuple[TrainState, Progress]:
    """A fresh state (replicated over `mesh`) and progress record (host arrays)."""
    init, tx = init_program(model, settings.train.learning_rate, settings.train.weight_decay, mesh)
    step, params, stats, opt_state = init(jax.random.key(settings.seed), np.zeros((1, 1, 1600), np.float32),
                                          np.ones((1, 1), bool))
    state = TrainState(step=step, params=params, batch_stats=stats, opt_state=opt_state, tx=tx)
    progress = Progress(epoch=np.array(0, np.int32), best_epoch=np.array(-1, np.int32),
                        best_score=np.array(-np.inf, np.float32), best_params=host_copy(params),
                        best_batch_stats=host_copy(stats))
    return state, progress


def host_copy(tree):
    """Host copies of a pytree's arrays (global ones gathered), independent of buffers a donating step reuses."""
    return jax.tree.map(np.array, to_host(tree))


def last_frame_loss(outputs: jax.Array, lengths: jax.Array, targets: jax.Array, weights: jax.Array) -> jax.Array:
    """MSE of the last valid frame, mean over outputs, weighted mean over rows (padding rows weigh 0)."""
    per_row = jnp.mean(jnp.square(last_valid(outputs, lengths) - targets), axis=-1)  # [B]
    return jnp.sum(per_row * weights) / jnp.maximum(jnp.sum(weights), 1.0)


@functools.lru_cache(maxsize=None)
def train_step_program(model: CnnLstm, mesh: Mesh | None = None):
    """Jitted `(state, frames [B, T, 1600], mask [B, T], targets [B, K], weights [B]) -> (state, loss)`.

    On a mesh the batch arrives sharded over `data` and the state and loss leave replicated.
    """

    def step(state: TrainState, frames, mask, targets, weights):
        def loss_fn(params):
            outputs, updates = model.apply({"params": params, "batch_stats": state.batch_stats}, frames, mask,
                                           train=True, mutable=["batch_stats"])
            return last_frame_loss(outputs, jnp.sum(mask, axis=1), targets, weights), updates["batch_stats"]

        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = state.tx.update(grads, state.opt_state, state.params)
        return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                             batch_stats=stats, opt_state=opt_state), loss

    return jax.jit(step, donate_argnums=0, out_shardings=None if mesh is None else replicated(mesh))


def epoch_batches(data: FramedSet, batch_size: int, buckets, seed: int, epoch: int):
    """`(frames [B, T, 1600], mask [B, T], targets [B, K], weights [B])` of one epoch, `batch_size` global.

    The order is fixed by (seed, epoch); rows filling the last batch weigh 0. Every process reads the
    whole global batch (the clips are in memory on every host); `device_batch` keeps its own rows.
    """
    loader = epoch_loader(data, seed=seed, epoch=epoch, global_batch_size=batch_size, buckets=buckets,
                          field="frames", read_options=IN_MEMORY, shard_options=grain.NoSharding())
    for batch in loader:
        yield batch["frames"], batch["mask"], batch["targets"], batch["valid"].astype(np.float32)


def device_batch(batch: tuple[np.ndarray, ...], mesh: Mesh) -> tuple[jax.Array, ...]:
    """A global batch (the same on every process) as arrays sharded over `data`; each process fills its devices."""
    return place(batch, sharded(mesh, DATA_AXIS))


def validation_score(model: CnnLstm, params, batch_stats, data: FramedSet, settings: RecognitionSettings,
                     mesh: Mesh | None = None) -> float:
    predictions = predict_clips(model, {"params": params, "batch_stats": batch_stats}, data.frames,
                                batch_size=settings.eval_batch_size, buckets=tuple(settings.buckets), mesh=mesh)
    return float(jax.jit(mean_ccc)(data.targets, predictions))


def fit(settings: RecognitionSettings, run: Run, train: FramedSet, val: FramedSet, *,
        mesh: Mesh | None = None, progress: bool = True) -> tuple[Progress, list[dict]]:
    """Trains (or resumes) in `run` (opened with the fingerprint of the files the clips come from); returns the
    progress record (`best_params` of the selected epoch, host arrays) and the history. The mesh defaults to
    `train_mesh(settings)`."""
    mesh = train_mesh(settings) if mesh is None else mesh
    model = build_model(settings)
    state, record = init_state(model, settings, mesh)
    saved, items = run.restore(state=state, progress=record, history=Json([]))
    if saved is not None:
        state = items["state"].replace(tx=state.tx)
        record, history = host_copy(items["progress"]), list(items["history"])
    else:
        history = []
    step = train_step_program(model, mesh)
    buckets = tuple(settings.buckets)
    epochs = tqdm(range(int(record.epoch), settings.train.epochs), desc="training",
                  disable=not (progress and run.is_primary))
    for epoch in epochs:
        if int(record.best_epoch) >= 0 and epoch - 1 - int(record.best_epoch) >= settings.train.patience:
            break
        losses = []
        for batch in epoch_batches(train, settings.train.batch_size, buckets, settings.seed, epoch):
            state, loss = step(state, *device_batch(batch, mesh))
            losses.append(loss)
        train_loss = float(np.mean(to_host(losses)))
        if not np.isfinite(train_loss):
            raise FloatingPointError(f"non-finite training loss {train_loss} in epoch {epoch}")
        weights = host_copy((state.params, state.batch_stats))  # host arrays: kept as the best, fed to evaluation
        score = validation_score(model, *weights, val, settings, mesh)
        record = record.replace(epoch=np.array(epoch + 1, np.int32))
        if score > float(record.best_score):
            record = record.replace(best_score=np.array(score, np.float32), best_epoch=np.array(epoch, np.int32),
                                    best_params=weights[0], best_batch_stats=weights[1])
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_mean_ccc": score})
        # The run copies device arrays to host before returning, so the next step may donate them.
        run.save(epoch + 1, state=state, progress=record, history=Json(history))
        run.log_metrics(epoch + 1, train_loss=train_loss, val_mean_ccc=score)
        epochs.set_postfix(loss=f"{train_loss:.4f}", val_ccc=f"{score:.4f}")
    return record, history
