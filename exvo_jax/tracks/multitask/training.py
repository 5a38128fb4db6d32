"""`train(settings, workdir)`: features -> scaling -> multi-seed training -> tables and plots.

Every epoch of every seed runs in one compiled call on the device mesh of `settings.mesh`: seeds split
over the axis `seeds`, training rows and mini-batches over `data`. The workdir belongs to the run layer
(`exvo_jax.run`): it resumes only with the same settings (up to watch fields such as `max_epochs` or the
mesh) and the same input files, and re-running the same command resumes from the last checkpoint and
reaches the same result as an uninterrupted run.

With several processes (`jax.distributed`, workdir on a shared filesystem) every process runs this same
code: process 0 extracts the features first and the others read its cache; each process places only
the training rows of its own devices; process 0 alone writes the tables, plots and logs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jax
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.parallel import (describe_runtime, format_runtime, mesh_from_config, pad_leading, place, replicated,
                               sharded, to_host)
from exvo_jax.run import Run, data_fingerprint, open_run
from exvo_jax.run.stacked import restore_stacked, save_stacked
from exvo_jax.settings import pick
from exvo_jax.tracks.multitask import seeds
from exvo_jax.tracks.multitask.data import (MultitaskData, SplitData, class_weights, input_files, load_once,
                                            scaled_split, target_scaling)
from exvo_jax.tracks.multitask.results import score_and_export
from exvo_jax.tracks.multitask.config import WATCH, MultitaskSettings

log = logging.getLogger(__name__)


def hyper_from(settings: MultitaskSettings, data: MultitaskData) -> seeds.Hyper:
    return pick(seeds.Hyper, settings, class_weights=tuple(sorted(class_weights(settings, data).items())),
                decay_steps=decay_steps(settings, len(data.train)))


def decay_steps(settings: MultitaskSettings, rows: int) -> int:
    """Steps of the cosine learning-rate decay: the whole budget (`max_epochs` epochs of `rows` training rows,
    the last partial batch included) for `lr_schedule="cosine"`, 0 (constant) for "constant"."""
    return settings.max_epochs * -(-rows // settings.batch_size) if settings.lr_schedule == "cosine" else 0


def model_from(settings: MultitaskSettings, data: MultitaskData) -> MultitaskNet:
    return MultitaskNet(tasks=data.tasks, trunk=tuple(settings.trunk), head_hidden=settings.head_hidden,
                        log_var_init=settings.log_var_init, init_scheme=settings.init_scheme)


def run_mesh(settings: MultitaskSettings) -> Mesh:
    """The mesh of `settings.mesh`: seeds the outer axis (independent trainings, no communication, so they may
    span hosts), data the inner one (a gradient all-reduce every step, between neighbouring devices)."""
    return mesh_from_config({"seeds": settings.mesh["seeds"], "data": settings.mesh["data"]},
                            [(settings.batch_size, "data", "batch_size (the global batch)")])


def training_rows(rows, mesh: Mesh):
    """Training rows as global arrays sharded over `data`, zero-padded to a multiple of it (padding is never
    drawn); every process holds all rows and fills only its own devices."""
    rows, _ = pad_leading(rows, mesh.shape["data"], fill="zeros")
    return place(rows, sharded(mesh, "data"))


def restore_or_init(run: Run, fresh: seeds.SeedState, settings: MultitaskSettings,
                    mesh: Mesh) -> tuple[int, seeds.SeedState]:
    """(epochs done, states on `mesh`): the run's newest checkpoint, else `fresh` (host states, padded).

    A checkpoint holds the real seeds (`exvo_jax.run.stacked`); its histories are extended to a larger epoch
    budget. `stopped` then follows the current patience and budget, so a raised `max_epochs` trains on.
    """
    def template(layout):
        saved = jax.tree_util.tree_map(lambda x: np.zeros((layout["models"], *x.shape[1:]), x.dtype), fresh)
        return saved.replace(**{name: np.zeros((layout["models"], layout["epochs"], *x.shape[2:]), x.dtype)
                                for name in seeds.HISTORY_FIELDS for x in [getattr(fresh, name)]})

    def adjust(states, layout):
        return seeds.resized(states, len(settings.seeds), 1, max(layout["epochs"], settings.max_epochs))

    step, states, _ = restore_stacked(run, template, mesh, "seeds", adjust)
    if step is None:
        return 0, place(fresh, sharded(mesh, "seeds"))
    return step, seeds.with_stopping(states, settings.patience, settings.max_epochs)


def divergence_suspects(train: SplitData, scaler: StandardScaler, count: int = 3) -> str:
    """Why a loss may turn non-finite on finite inputs (`load_data` refuses others): the training clips whose
    standardised features lie farthest out, with how far, and the usual remedy."""
    extent = np.abs(scaler.transform(train.features)).max(1)
    worst = np.argsort(-extent)[:count]
    clips = ", ".join(f"{train.ids[i]} (|z| {extent[i]:.3g})" for i in worst)
    return (f"features and labels are finite; the training clips with the most extreme standardised features are "
            f"{clips}; check those clips or lower learning_rate")


def fit(settings: MultitaskSettings, data: MultitaskData, run: Run, *, mesh: Mesh | None = None,
        stop_after: int | None = None, progress: bool = True) -> tuple[seeds.SeedState, StandardScaler, MultitaskNet]:
    """Trains every seed of `settings.seeds` to completion (or `stop_after` epochs) in `run`, resuming from its
    checkpoints.

    The mesh defaults to `run_mesh(settings)`. Returns the stacked states as global arrays sharded over
    `seeds`: the real seeds first, then inert copies of the first one up to a multiple of that axis.
    """
    mesh = run_mesh(settings) if mesh is None else mesh
    hyper, model = hyper_from(settings, data), model_from(settings, data)
    n = len(settings.seeds)
    scaler = StandardScaler.fit(data.train.features)
    targets = target_scaling(settings, data)
    train = training_rows(scaled_split(data.train, scaler, data.tasks, targets), mesh)
    val = place(scaled_split(data.val, scaler, data.tasks, targets), replicated(mesh))
    fresh = seeds.init_states(model, seeds.optimizer(hyper), list(settings.seeds), data.dim, hyper.max_epochs)
    fresh, _ = pad_leading(fresh, mesh.shape["seeds"], fill="first")  # inert copies of the first seed
    first, states = restore_or_init(run, fresh, settings, mesh)
    epochs = int(states.train_loss.shape[1])
    program = seeds.epoch_program(model, hyper, settings.strategy, mesh, len(data.train))
    stopping = place(seeds.Stopping.create(settings.patience, settings.min_delta), replicated(mesh))
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
            bad = [s for s, v, r in zip(settings.seeds, train_loss, ran) if r and not np.isfinite(v)]
            raise FloatingPointError(f"non-finite training loss at epoch {epoch + 1} for seed(s) {bad}: "
                                     f"{divergence_suspects(data.train, scaler)}")
        if (epoch + 1) % settings.checkpoint_every == 0 or epoch + 1 == last or stopped.all():
            save_stacked(run, epoch + 1, states, n, epochs=epochs)
        run.log_metrics(epoch + 1, train_loss=np.nanmean(train_loss), val_loss=np.nanmean(val_loss),
                        **{f"{kind}_loss/seed_{s}": v for kind, values in (("train", train_loss), ("val", val_loss))
                           for s, v, r in zip(settings.seeds, values, ran) if r})
        bar.set_postfix(val_loss=float(np.nanmean(val_loss)))
    return states, scaler, model


def train(settings: MultitaskSettings, workdir: str | Path, *, overwrite: bool = False, progress: bool = True) -> dict:
    """Trains all seeds, scores them on validation and writes results.{md,json}, losses.png and model/.

    Returns the results: per-seed validation scores, mean and std over seeds, the trivial predictor's
    scores, the selected seed (best on validation: S_MTL where defined, else validation loss), training
    history, the paths written and, where the Test split is labelled, the same scores on Test ("test").
    A workdir holding another run (other settings or data) is refused unless `overwrite`.
    """
    mesh = run_mesh(settings)
    data = load_once(settings, workdir, progress)
    fingerprint = data_fingerprint(input_files(settings))
    with open_run(workdir, settings, fingerprint, overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("multitask training on %s", format_runtime(runtime))
        run.log_event("start", runtime=runtime, seeds=list(settings.seeds), train_rows=len(data.train))
        states, scaler, model = fit(settings, data, run, mesh=mesh, progress=progress)
        return score_and_export(settings, data, run, mesh, states, scaler, model)

