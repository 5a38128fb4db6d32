"""Speaker-independent training of the few-shot model: AdamW, bucketed batches, best-by-validation CCC.

`fit(config, workdir, train, val)` trains on framed Train clips and keeps the parameters of the epoch
with the best validation mean CCC; it stops after `patience` epochs without improvement. Every epoch
is checkpointed with orbax (state, best parameters, counters, history), and a rerun in the same
workdir resumes exactly where it stopped: batches come from the input pipeline's `epoch_loader`, whose
order depends only on (seed, epoch).
The per-epoch history (train loss, validation mean CCC) is saved in the same checkpoint.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import struct
from tqdm import tqdm

from exvo_jax.data.pipeline import IN_MEMORY, epoch_loader
from exvo_jax.metrics import mean_ccc
from exvo_jax.models.fewshot import FewShotModel, last_valid
from exvo_jax.tracks.fewshot.inference import predict_clips


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


def build_model(config: ml_collections.ConfigDict) -> FewShotModel:
    return FewShotModel(hidden=config.model.hidden, outputs=config.model.outputs, channels=tuple(config.model.channels))


@functools.lru_cache(maxsize=None)
def init_program(model: FewShotModel, learning_rate: float, weight_decay: float):
    """Jitted `(key, frames, mask) -> (params, batch_stats, opt_state)` and the optimiser."""
    tx = optax.adamw(learning_rate, weight_decay=weight_decay)

    @jax.jit
    def init(key, frames, mask):  # inputs as arguments: XLA would constant-fold convolutions of constants
        variables = model.init(key, frames, mask)
        return variables["params"], variables["batch_stats"], tx.init(variables["params"])

    return init, tx


def init_state(model: FewShotModel, config: ml_collections.ConfigDict) -> tuple[TrainState, Progress]:
    init, tx = init_program(model, config.train.learning_rate, config.train.weight_decay)
    params, stats, opt_state = init(jax.random.key(config.seed), np.zeros((1, 1, 1600), np.float32),
                                    np.ones((1, 1), bool))
    state = TrainState(step=jnp.zeros((), jnp.int32), params=params, batch_stats=stats, opt_state=opt_state, tx=tx)
    progress = Progress(epoch=np.array(0, np.int32), best_epoch=np.array(-1, np.int32),
                        best_score=np.array(-np.inf, np.float32), best_params=host_copy(params),
                        best_batch_stats=host_copy(stats))
    return state, progress


def host_copy(tree):
    """Host copies of a pytree's arrays, independent of device buffers that a donating step reuses."""
    return jax.tree.map(np.array, tree)


def last_frame_loss(outputs: jax.Array, lengths: jax.Array, targets: jax.Array, weights: jax.Array) -> jax.Array:
    """MSE of the last valid frame, mean over outputs, weighted mean over rows (padding rows weigh 0)."""
    per_row = jnp.mean(jnp.square(last_valid(outputs, lengths) - targets), axis=-1)  # [B]
    return jnp.sum(per_row * weights) / jnp.maximum(jnp.sum(weights), 1.0)


@functools.lru_cache(maxsize=None)
def train_step_program(model: FewShotModel):
    """Jitted `(state, frames [B, T, 1600], mask [B, T], targets [B, K], weights [B]) -> (state, loss)`."""

    def step(state: TrainState, frames, mask, targets, weights):
        def loss_fn(params):
            outputs, updates = model.apply({"params": params, "batch_stats": state.batch_stats}, frames, mask,
                                           train=True, mutable=["batch_stats"])
            return last_frame_loss(outputs, jnp.sum(mask, axis=1), targets, weights), updates["batch_stats"]

        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = state.tx.update(grads, state.opt_state, state.params)
        return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                             batch_stats=stats, opt_state=opt_state), loss

    return jax.jit(step, donate_argnums=0)


def epoch_batches(data: FramedSet, batch_size: int, buckets, seed: int, epoch: int):
    """`(frames [B, T, 1600], mask [B, T], targets [B, K], weights [B])` of one epoch, `batch_size` global.

    The order is fixed by (seed, epoch); rows filling the last batch weigh 0.
    """
    loader = epoch_loader(data, seed=seed, epoch=epoch, global_batch_size=batch_size, buckets=buckets,
                          field="frames", read_options=IN_MEMORY)
    for batch in loader:
        yield batch["frames"], batch["mask"], batch["targets"], batch["valid"].astype(np.float32)


def validation_score(model: FewShotModel, params, batch_stats, data: FramedSet, config) -> float:
    predictions = predict_clips(model, {"params": params, "batch_stats": batch_stats}, data.frames,
                                batch_size=config.eval_batch_size, buckets=tuple(config.buckets))
    return float(jax.jit(mean_ccc)(data.targets, predictions))


def checkpoint_manager(workdir: Path) -> ocp.CheckpointManager:
    return ocp.CheckpointManager((Path(workdir) / "checkpoints").absolute(),
                                 options=ocp.CheckpointManagerOptions(max_to_keep=1, create=True))


def fit(config: ml_collections.ConfigDict, workdir: str | Path, train: FramedSet, val: FramedSet,
        progress: bool = True) -> tuple[Progress, list[dict]]:
    """Trains (or resumes); returns the progress record (`best_params` of the selected epoch) and the history."""
    model = build_model(config)
    state, record = init_state(model, config)
    history: list[dict] = []
    manager = checkpoint_manager(Path(workdir))
    if manager.latest_step() is not None:
        restored = manager.restore(manager.latest_step(), args=ocp.args.Composite(
            state=ocp.args.StandardRestore(state), progress=ocp.args.StandardRestore(record),
            history=ocp.args.JsonRestore()))
        state = jax.device_put(restored.state.replace(tx=state.tx))
        record, history = host_copy(restored.progress), list(restored.history)
    step = train_step_program(model)
    buckets = tuple(config.buckets)
    epochs = tqdm(range(int(record.epoch), config.train.epochs), desc="training", disable=not progress)
    for epoch in epochs:
        if int(record.best_epoch) >= 0 and epoch - 1 - int(record.best_epoch) >= config.train.patience:
            break
        losses = []
        for batch in epoch_batches(train, config.train.batch_size, buckets, config.seed, epoch):
            state, loss = step(state, *batch)
            losses.append(loss)
        train_loss = float(np.mean(jax.device_get(losses)))
        if not np.isfinite(train_loss):
            raise FloatingPointError(f"non-finite training loss {train_loss} in epoch {epoch}")
        score = validation_score(model, state.params, state.batch_stats, val, config)
        record = record.replace(epoch=np.array(epoch + 1, np.int32))
        if score > float(record.best_score):
            record = record.replace(best_score=np.array(score, np.float32), best_epoch=np.array(epoch, np.int32),
                                    best_params=host_copy(state.params), best_batch_stats=host_copy(state.batch_stats))
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_mean_ccc": score})
        # Host copies, so that the donated buffers of the next step are not the ones being saved.
        manager.save(epoch + 1, args=ocp.args.Composite(state=ocp.args.StandardSave(host_copy(state)),
                                                        progress=ocp.args.StandardSave(record),
                                                        history=ocp.args.JsonSave(history)))
        epochs.set_postfix(loss=f"{train_loss:.4f}", val_ccc=f"{score:.4f}")
    manager.wait_until_finished()
    manager.close()
    return record, history
