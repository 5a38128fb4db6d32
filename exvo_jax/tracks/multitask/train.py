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
from jax.experimental import multihost_utils
from jax.sharding import Mesh
from tqdm.auto import tqdm

from exvo_jax.data import nonverbal
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, read_release
from exvo_jax.data.schema import SPLITS
from exvo_jax.features.boaw import boaw_size
from exvo_jax.features.corpus import has_official
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.parallel import (check_divisible, describe_runtime, format_runtime, make_mesh, pad_leading, place,
                               replicated, sharded, to_host)
from exvo_jax.run import WATCH_FIELDS, Json, Run, data_fingerprint, open_run
from exvo_jax.tracks.multitask import evaluate, report, seeds
from exvo_jax.tracks.multitask.bundle import ModelBundle, save_bundle
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData, load_data

log = logging.getLogger(__name__)

# Besides the run layer's: how the seeds are spread over devices changes float rounding, not what is computed.
WATCH = WATCH_FIELDS | {"mesh.seeds", "mesh.data", "strategy"}


def hyper_from(config: ml_collections.ConfigDict) -> seeds.Hyper:
    return seeds.Hyper(**{field.name: config[field.name] for field in dataclasses.fields(seeds.Hyper)})


def model_from(config: ml_collections.ConfigDict, data: MultitaskData) -> MultitaskNet:
    return MultitaskNet(tasks=data.tasks, trunk=tuple(config.trunk), head_hidden=config.head_hidden,
                        log_var_init=config.log_var_init)


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


def input_files(config: ml_collections.ConfigDict) -> list[Path]:
    """The corpus files the run's features and labels come from (what `load_data` reads), for the fingerprint."""
    root = Path(config.data_dir)
    if config.dataset == "nonverbal":
        return [clip.path for clip in nonverbal.read_corpus(root)]
    corpus = read_release(root, test_labels=config.test_labels)
    files = [root / DATA_INFO] + ([root / TEST_LABELS] if config.test_labels else [])
    splits = [clips for name in SPLITS if (clips := corpus.split(name))]
    shipped = [has_official(corpus, clips, config.feature_set) for clips in splits]
    if boaw_size(config.feature_set) is not None and not all(shipped):
        shipped = [False] * len(splits)  # the codebook is fit on Train audio: every split is computed from audio
    for clips, official in zip(splits, shipped):
        files += [corpus.feature_path(config.feature_set, c.file_id) if official else c.wav_path for c in clips]
    return files


def load_once(config: ml_collections.ConfigDict, workdir: str | Path) -> MultitaskData:
    """`load_data` on process 0 first (it extracts and caches the features), then on the others (cache hits)."""
    if jax.process_count() == 1:
        return load_data(config, workdir)
    if jax.process_index() == 0:
        try:
            data = load_data(config, workdir)
        except Exception:
            multihost_utils.broadcast_one_to_all(np.int32(0))  # the other processes fail with it
            raise
    loaded = multihost_utils.broadcast_one_to_all(np.int32(1))
    if jax.process_index() == 0:
        return data
    if not loaded:
        raise DataError(f"{config.data_dir}: process 0 could not load the data (its error says why)")
    return load_data(config, workdir)


def target_scaling(config: ml_collections.ConfigDict, data: MultitaskData) -> dict[str, tuple[float, float]]:
    """{regression task: (mean, std)} on Train where `config.scale_targets`, else {} (targets in their units)."""
    if not config.scale_targets:
        return {}
    out = {}
    for task in data.tasks:
        if task.kind == "regression":
            y = np.asarray(data.train.labels[task.name], np.float64)
            out[task.name] = (float(y.mean()), float(y.std()) or 1.0)
    return out


def scaled_split(split: SplitData, scaler: StandardScaler, tasks,
                 targets: dict[str, tuple[float, float]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Standardised features [N, D] and labels (regression targets scaled where `targets` says), on host."""
    labels = {}
    for t in tasks:
        mean, std = targets.get(t.name, (0.0, 1.0))
        y = split.labels[t.name]
        labels[t.name] = np.asarray((y - mean) / std if t.name in targets else y)
    return scaler.transform(split.features), labels


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


def fit(config: ml_collections.ConfigDict, data: MultitaskData, run: Run, *, mesh: Mesh | None = None,
        stop_after: int | None = None, progress: bool = True) -> tuple[seeds.SeedState, StandardScaler, MultitaskNet]:
    """Trains every seed of `config.seeds` to completion (or `stop_after` epochs) in `run`, resuming from its
    checkpoints.

    The mesh defaults to `run_mesh(config)`. Returns the stacked states as global arrays sharded over
    `seeds`: the real seeds first, then inert copies of the first one up to a multiple of that axis.
    """
    mesh = run_mesh(config) if mesh is None else mesh
    hyper, model = hyper_from(config), model_from(config, data)
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
        states = program(states, train, val, stopping)
        host = to_host({"stopped": states.stopped, "train": states.train_loss, "val": states.val_loss})  # [S], [S, E]
        stopped, train_loss, val_loss = host["stopped"][:n], host["train"][:n, epoch], host["val"][:n, epoch]
        ran = ~np.isnan(train_loss)
        if not np.all(np.isfinite(train_loss[ran])):
            bad = [s for s, v, r in zip(config.seeds, train_loss, ran) if r and not np.isfinite(v)]
            raise FloatingPointError(f"non-finite training loss at epoch {epoch + 1} for seed(s) {bad}")
        if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == last or stopped.all():
            run.save(epoch + 1, state=states, layout=Json(layout))
        run.log_metrics(epoch + 1, train_loss=np.nanmean(train_loss), val_loss=np.nanmean(val_loss),
                        **{f"{kind}_loss/seed_{s}": v for kind, values in (("train", train_loss), ("val", val_loss))
                           for s, v, r in zip(config.seeds, values, ran) if r})
        bar.set_postfix(val_loss=float(np.nanmean(val_loss)))
    return states, scaler, model


def evaluate_seeds(config, data: MultitaskData, split: SplitData, params, scaler: StandardScaler,
                   model: MultitaskNet, mesh: Mesh) -> list[dict[str, float]]:
    """Scores of every real seed (stacked `params` on `mesh`) on a labelled split (regression in label units)."""
    x = place(scaler.transform(split.features), replicated(mesh))
    outputs = {k: v[:len(config.seeds)] for k, v in to_host(seeds.make_predict(model, mesh)(params, x)).items()}
    for name, (mean, std) in target_scaling(config, data).items():
        outputs[name] = outputs[name] * std + mean
    per_seed = []
    for i in range(len(config.seeds)):
        predictions = {t.name: evaluate.as_labels(t, outputs[t.name][i]) for t in data.tasks}
        per_seed.append(evaluate.score(data.tasks, predictions, split.labels, data.column_names, config.ccc_variant))
    return per_seed


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | Path, progress: bool = True,
                       overwrite: bool = False) -> dict:
    """Trains all seeds, scores them on validation and writes results.{md,json}, losses.png and model/.

    Returns the results: per-seed validation scores, mean and std over seeds, the trivial predictor's
    scores, the selected seed (best on validation: S_MTL where defined, else validation loss), training
    history, the paths written and, where the Test split is labelled, the same scores on Test ("test").
    A workdir holding another run (other config or data) is refused unless `overwrite`.
    """
    mesh = run_mesh(config)
    data = load_once(config, workdir)
    fingerprint = data_fingerprint(input_files(config))
    with open_run(workdir, config, fingerprint, overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("multitask training on %s", format_runtime(runtime))
        run.log_event("start", runtime=runtime, seeds=list(config.seeds), train_rows=len(data.train))
        states, scaler, model = fit(config, data, run, mesh=mesh, progress=progress)
        return _results(config, data, run, mesh, states, scaler, model)


def _results(config, data: MultitaskData, run: Run, mesh: Mesh, states: seeds.SeedState, scaler: StandardScaler,
             model: MultitaskNet) -> dict:
    """Scores, the selected seed's model export and the run's tables and plot (process 0)."""
    n = len(config.seeds)
    params = seeds.final_params(states, config.restore)
    per_seed = evaluate_seeds(config, data, data.val, params, scaler, model, mesh)
    mean, std = report.summary(per_seed)
    trivial = evaluate.score(
        data.tasks, evaluate.trivial_predictions(data.tasks, data.train.labels, len(data.val)),
        data.val.labels, data.column_names, config.ccc_variant,
    )
    host = jax.tree_util.tree_map(lambda v: v[:n], to_host({
        "best_loss": states.best_loss, "best_epoch": states.best_epoch, "epoch": states.epoch,
        "train_loss": states.train_loss, "val_loss": states.val_loss, "params": params}))
    best_val = host["best_loss"] if config.restore == "best" else np.nanmin(host["val_loss"], 1)
    choice = int(np.argmax([evaluate.selection_score(s, float(v)) for s, v in zip(per_seed, best_val)]))
    bundle = ModelBundle(model, jax.tree_util.tree_map(lambda x: x[choice], host["params"]), scaler,
                         config.feature_set, config.dataset, int(config.seeds[choice]), dict(data.column_names),
                         target_scaling(config, data))
    results = {
        "dataset": config.dataset,
        "feature_set": config.feature_set,
        "tasks": [t.name for t in data.tasks],
        "restore": config.restore,
        "seeds": [int(s) for s in config.seeds],
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "trivial": trivial,
        "best_seed": int(config.seeds[choice]),
        "best_epoch": [int(e) + 1 for e in host["best_epoch"]],
        "epochs_run": [int(e) for e in host["epoch"]],
        "history": {"train_loss": host["train_loss"].tolist(), "val_loss": host["val_loss"].tolist()},
    }
    if data.test is not None and data.test.labels is not None:  # held-out scores where Test labels exist
        test_scores = evaluate_seeds(config, data, data.test, params, scaler, model, mesh)
        test_mean, test_std = report.summary(test_scores)
        results["test"] = {"per_seed": test_scores, "mean": test_mean, "std": test_std}
    paths = {name: run.workdir / file for name, file in report.OUTPUTS.items()}
    results["paths"] = {k: str(v) for k, v in {**paths, "model": save_bundle(run.workdir, bundle)}.items()}
    report.write_outputs(run, results)
    return results
