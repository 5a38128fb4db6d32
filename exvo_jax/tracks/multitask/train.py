"""`train_and_evaluate(config, workdir)`: features -> scaling -> multi-seed training -> tables and plots.

Every epoch of every seed runs in one compiled call on the device mesh of `config.mesh`: seeds split
over the axis `seeds`, training rows and mini-batches over `data`. The workdir belongs to the run layer
(`exvo_jax.run`): it resumes only with the same config (up to watch fields such as `max_epochs` or the
mesh) and the same input files, and re-running the same command resumes from the last checkpoint and
reaches the same result as an uninterrupted run.

With several processes (`jax.distributed`, workdir on a shared filesystem) every process runs this same
code: process 0 extracts the features first and the others read its cache; each process places only
the training rows of its own devices; process 0 alone writes the tables, plots and logs.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import jax
import ml_collections
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from exvo_jax.data.errors import DataError
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.parallel import (check_divisible, describe_runtime, format_runtime, make_mesh, pad_leading, place,
                               replicated, sharded, to_host)
from exvo_jax.run import WATCH_FIELDS, Json, Run, data_fingerprint, open_run
from exvo_jax.tracks.multitask import seeds
from exvo_jax.tracks.multitask.data import (MultitaskData, SplitData, class_weights, input_files, load_once,
                                            scaled_split, target_scaling)
from exvo_jax.tracks.multitask.results import score_and_export

log = logging.getLogger(__name__)

# Besides the run layer's: how the seeds are spread over devices changes float rounding, not what is computed.
WATCH = WATCH_FIELDS | {"mesh.seeds", "mesh.data", "strategy"}
LR_SCHEDULES = ("constant", "cosine")


def hyper_from(config: ml_collections.ConfigDict, data: MultitaskData) -> seeds.Hyper:
    settings = {field.name: config[field.name] for field in dataclasses.fields(seeds.Hyper) if field.name in config}
    return seeds.Hyper(**settings, class_weights=tuple(sorted(class_weights(config, data).items())),
                       decay_steps=decay_steps(config, len(data.train)))


def decay_steps(config: ml_collections.ConfigDict, rows: int) -> int:
    """Steps of the cosine learning-rate decay: the whole budget (`max_epochs` epochs of `rows` training rows,
    the last partial batch included) for `lr_schedule="cosine"`, 0 (constant) for "constant"."""
    return config.max_epochs * -(-rows // config.batch_size) if lr_schedule(config) == "cosine" else 0


def lr_schedule(config: ml_collections.ConfigDict) -> str:
    """`config.lr_schedule`; an unknown one is a `DataError`."""
    schedule = config.get("lr_schedule", "constant")
    if schedule not in LR_SCHEDULES:
        raise DataError(f"config.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {schedule!r}")
    return schedule


def model_from(config: ml_collections.ConfigDict, data: MultitaskData) -> MultitaskNet:
    return MultitaskNet(tasks=data.tasks, trunk=tuple(config.trunk), head_hidden=config.head_hidden,
                        log_var_init=config.log_var_init, init_scheme=config.init_scheme)


def run_mesh(config: ml_collections.ConfigDict) -> Mesh:
    """The mesh of `config.mesh`; a size that does not fit the devices or the batch is a `DataError`.

    Seeds are the outer axis (independent trainings, no communication, so they may span hosts), data
    the inner one (a gradient all-reduce every step, between neighbouring devices).
    """
    try:
        mesh = make_mesh({"seeds": config.mesh.seeds, "data": config.mesh.data})
        check_divisible(config.batch_size, mesh, "data", what="batch_size (the global batch)")
    except ValueError as err:
        raise DataError(f"config.mesh {config.mesh.to_dict()}: {err}") from None
    return mesh


def training_rows(rows, mesh: Mesh):
    """Training rows as global arrays sharded over `data`, zero-padded to a multiple of it (padding is never
    drawn); every process holds all rows and fills only its own devices."""
    rows, _ = pad_leading(rows, mesh.shape["data"], fill="zeros")
    return place(rows, sharded(mesh, "data"))


def restore_or_init(run: Run, fresh: seeds.SeedState, config: ml_collections.ConfigDict,
                    mesh: Mesh) -> tuple[int, seeds.SeedState]:
    """(epochs done, states on `mesh`): the run's newest checkpoint, else `fresh` (host states, padded).

    A checkpoint of the same layout is restored straight onto the mesh. One of another mesh (other seed
    padding) or a smaller epoch budget is read to host, cut to the real seeds, padded again and its
    histories extended. `stopped` then follows the current patience and budget, so a raised
    `max_epochs` trains on.
    """
    step, items = run.restore(layout=Json(None))
    if step is None:
        return 0, place(fresh, sharded(mesh, "seeds"))
    saved = items["layout"]  # {"seeds", "padded", "epochs"}
    epochs = max(saved["epochs"], config.max_epochs)
    same = saved["padded"] == fresh.epoch.shape[0] and saved["epochs"] == epochs

    def template(x, *shape):  # on the mesh as saved, or on host to be reshaped
        shape = (saved["padded"], *shape)
        if same:
            return jax.ShapeDtypeStruct(shape, x.dtype, sharding=sharded(mesh, "seeds"))
        return np.zeros(shape, x.dtype)

    abstract = jax.tree_util.tree_map(lambda x: template(x, *x.shape[1:]), fresh)
    abstract = abstract.replace(**{name: template(x, saved["epochs"], *x.shape[2:]) for name in seeds.HISTORY_FIELDS
                                   for x in [getattr(fresh, name)]})
    states = run.restore(state=abstract)[1]["state"]
    if not same:
        states = place(seeds.resized(states, len(config.seeds), mesh.shape["seeds"], epochs), sharded(mesh, "seeds"))
    log.info("%s: resuming after epoch %d", run.workdir, step)
    return step, seeds.with_stopping(states, config.patience, config.max_epochs)


def divergence_suspects(train: SplitData, scaler: StandardScaler, count: int = 3) -> str:
    """Why a loss may turn non-finite on finite inputs (`load_data` refuses others): the training clips whose
    standardised features lie farthest out, with how far, and the usual remedy."""
    extent = np.abs(scaler.transform(train.features)).max(1)
    worst = np.argsort(-extent)[:count]
    clips = ", ".join(f"{train.ids[i]} (|z| {extent[i]:.3g})" for i in worst)
    return (f"features and labels are finite; the training clips with the most extreme standardised features are "
            f"{clips}; check those clips or lower learning_rate")


def fit(config: ml_collections.ConfigDict, data: MultitaskData, run: Run, *, mesh: Mesh | None = None,
        stop_after: int | None = None, progress: bool = True) -> tuple[seeds.SeedState, StandardScaler, MultitaskNet]:
    """Trains every seed of `config.seeds` to completion (or `stop_after` epochs) in `run`, resuming from its
    checkpoints.

    The mesh defaults to `run_mesh(config)`. Returns the stacked states as global arrays sharded over
    `seeds`: the real seeds first, then inert copies of the first one up to a multiple of that axis.
    """
    mesh = run_mesh(config) if mesh is None else mesh
    hyper, model = hyper_from(config, data), model_from(config, data)
    n = len(config.seeds)
    scaler = StandardScaler.fit(data.train.features)
    targets = target_scaling(config, data)
    train = training_rows(scaled_split(data.train, scaler, data.tasks, targets), mesh)
    val = place(scaled_split(data.val, scaler, data.tasks, targets), replicated(mesh))
    fresh = seeds.init_states(model, seeds.optimizer(hyper), list(config.seeds), data.dim, hyper.max_epochs)
    fresh, _ = pad_leading(fresh, mesh.shape["seeds"], fill="first")  # inert copies of the first seed
    first, states = restore_or_init(run, fresh, config, mesh)
    layout = {"seeds": [int(s) for s in config.seeds], "padded": int(states.epoch.shape[0]),
              "epochs": int(states.train_loss.shape[1])}
    program = seeds.epoch_program(model, hyper, config.strategy, mesh, len(data.train))
    stopping = place(seeds.Stopping.create(config.patience, config.min_delta), replicated(mesh))
    last = hyper.max_epochs if stop_after is None else min(hyper.max_epochs, stop_after)
    stopped = to_host(states.stopped)[:n]
    where = " x ".join(f"{axis}={size}" for axis, size in mesh.shape.items())
    bar = tqdm(range(first, last), desc=f"{data.dim}-d, {n} seeds, mesh {where}", leave=False,
               disable=not (progress and run.is_primary))
    for epoch in bar:
        if stopped.all():
            break
        ran = ~stopped  # a seed stopped earlier keeps NaN history; one that ran and has a NaN loss diverged
        states = program(states, train, val, stopping)
        host = to_host({"stopped": states.stopped, "train": states.train_loss, "val": states.val_loss})  # [S], [S, E]
        stopped, train_loss, val_loss = host["stopped"][:n], host["train"][:n, epoch], host["val"][:n, epoch]
        if not np.all(np.isfinite(train_loss[ran])):
            bad = [s for s, v, r in zip(config.seeds, train_loss, ran) if r and not np.isfinite(v)]
            raise FloatingPointError(f"non-finite training loss at epoch {epoch + 1} for seed(s) {bad}: "
                                     f"{divergence_suspects(data.train, scaler)}")
        if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == last or stopped.all():
            run.save(epoch + 1, state=states, layout=Json(layout))
        run.log_metrics(epoch + 1, train_loss=np.nanmean(train_loss), val_loss=np.nanmean(val_loss),
                        **{f"{kind}_loss/seed_{s}": v for kind, values in (("train", train_loss), ("val", val_loss))
                           for s, v, r in zip(config.seeds, values, ran) if r})
        bar.set_postfix(val_loss=float(np.nanmean(val_loss)))
    return states, scaler, model


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | Path, progress: bool = True,
                       overwrite: bool = False) -> dict:
    """Trains all seeds, scores them on validation and writes results.{md,json}, losses.png and model/.

    Returns the results: per-seed validation scores, mean and std over seeds, the trivial predictor's
    scores, the selected seed (best on validation: S_MTL where defined, else validation loss), training
    history, the paths written and, where the Test split is labelled, the same scores on Test ("test").
    A workdir holding another run (other config or data) is refused unless `overwrite`.
    """
    mesh = run_mesh(config)
    lr_schedule(config)  # an unknown schedule stops the run before any feature is extracted
    data = load_once(config, workdir, progress)
    fingerprint = data_fingerprint(input_files(config))
    with open_run(workdir, config, fingerprint, overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("multitask training on %s", format_runtime(runtime))
        run.log_event("start", runtime=runtime, seeds=list(config.seeds), train_rows=len(data.train))
        states, scaler, model = fit(config, data, run, mesh=mesh, progress=progress)
        return score_and_export(config, data, run, mesh, states, scaler, model)

