"""`train_and_evaluate(config, workdir)`: features -> scaling -> multi-seed training -> tables and plots.

Every epoch of every seed runs in one compiled call; the stacked state is checkpointed with orbax after
each epoch, so re-running the same command in the same workdir resumes where it stopped and reaches the
same result as an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
from tqdm.auto import tqdm

from exvo_jax.atomic import write_text
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.tracks.multitask import evaluate, report, seeds
from exvo_jax.tracks.multitask.bundle import ModelBundle, save_bundle
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData, load_data

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
CHECKPOINTS = "checkpoints"


def hyper_from(config: ml_collections.ConfigDict) -> seeds.Hyper:
    return seeds.Hyper(
        batch_size=config.batch_size,
        max_epochs=config.max_epochs,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        intensity_loss=config.intensity_loss,
    )


def model_from(config: ml_collections.ConfigDict, data: MultitaskData) -> MultitaskNet:
    return MultitaskNet(tasks=data.tasks, trunk=tuple(config.trunk), head_hidden=config.head_hidden,
                        log_var_init=config.log_var_init)


def _guard_config(workdir: Path, config: ml_collections.ConfigDict) -> None:
    """Writes config.json; refuses to resume a workdir trained with different settings."""
    text = config.to_json(indent=2, sort_keys=True) + "\n"
    path = workdir / CONFIG_FILE
    if path.exists() and json.loads(path.read_text()) != json.loads(text):
        raise ValueError(f"{path}: this workdir was trained with a different config; use a new workdir to start over")
    write_text(path, text)


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


def _device_split(split: SplitData, scaler: StandardScaler, tasks,
                  targets: dict[str, tuple[float, float]]) -> tuple[jax.Array, dict[str, jax.Array]]:
    x = jnp.asarray(scaler.transform(split.features))  # [N, D]
    labels = {}
    for t in tasks:
        mean, std = targets.get(t.name, (0.0, 1.0))
        y = split.labels[t.name]
        labels[t.name] = jnp.asarray((y - mean) / std if t.name in targets else y)
    return x, labels


def fit(config: ml_collections.ConfigDict, data: MultitaskData, workdir: str | Path, *,
        stop_after: int | None = None, progress: bool = True) -> tuple[seeds.SeedState, StandardScaler, MultitaskNet]:
    """Trains every seed of `config.seeds` to completion (or `stop_after` epochs), resuming from checkpoints."""
    workdir = Path(workdir)
    hyper = hyper_from(config)
    model = model_from(config, data)
    tx = seeds.optimizer(hyper)
    strategy = seeds.pick_strategy(config.strategy)
    scaler = StandardScaler.fit(data.train.features)
    targets = target_scaling(config, data)
    train = _device_split(data.train, scaler, data.tasks, targets)
    val = _device_split(data.val, scaler, data.tasks, targets)
    states = seeds.init_states(model, tx, list(config.seeds), data.dim, hyper.max_epochs)
    manager = ocp.CheckpointManager((workdir / CHECKPOINTS).absolute(),
                                    options=ocp.CheckpointManagerOptions(max_to_keep=2))
    start = manager.latest_step()
    if start is not None:
        states = manager.restore(start, args=ocp.args.StandardRestore(states))
        log.info("resumed %s at epoch %d", workdir, start)
    program = seeds.epoch_program(model, hyper, strategy)
    stopping = seeds.Stopping.create(config.patience, config.min_delta)
    first = int(start or 0)
    last = hyper.max_epochs if stop_after is None else min(hyper.max_epochs, stop_after)
    bar = tqdm(range(first, last), desc=f"{data.train.features.shape[1]}-d, {len(config.seeds)} seeds ({strategy})",
               leave=False, disable=not progress)
    for epoch in bar:
        if bool(np.all(np.asarray(states.stopped))):
            break
        states = program(states, train, val, stopping)
        train_loss = np.asarray(states.train_loss[:, epoch])
        ran = ~np.isnan(train_loss)
        if not np.all(np.isfinite(train_loss[ran])):
            bad = [s for s, v, r in zip(config.seeds, train_loss, ran) if r and not np.isfinite(v)]
            raise FloatingPointError(f"non-finite training loss at epoch {epoch + 1} for seed(s) {bad}")
        done = epoch + 1 == last or bool(np.all(np.asarray(states.stopped)))
        if (epoch + 1) % config.checkpoint_every == 0 or done:
            manager.save(epoch + 1, args=ocp.args.StandardSave(states))
        bar.set_postfix(val_loss=float(np.nanmean(np.asarray(states.val_loss[:, epoch]))))
    manager.wait_until_finished()
    manager.close()
    return states, scaler, model


def evaluate_seeds(config, data: MultitaskData, split: SplitData, params, scaler: StandardScaler,
                   model: MultitaskNet) -> list[dict[str, float]]:
    """Scores of every seed (stacked `params`) on a labelled split (regression outputs back in label units)."""
    outputs = seeds.as_numpy(seeds.make_predict(model)(params, jnp.asarray(scaler.transform(split.features))))
    for name, (mean, std) in target_scaling(config, data).items():
        outputs[name] = outputs[name] * std + mean
    per_seed = []
    for i in range(len(config.seeds)):
        predictions = {t.name: evaluate.as_labels(t, outputs[t.name][i]) for t in data.tasks}
        per_seed.append(evaluate.score(data.tasks, predictions, split.labels, data.column_names, config.ccc_variant))
    return per_seed


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | Path, progress: bool = True) -> dict:
    """Trains all seeds, scores them on validation and writes results.{md,json}, losses.png and model/.

    Returns the results: per-seed validation scores, mean and std over seeds, the trivial predictor's
    scores, the selected seed (best on validation: S_MTL where defined, else validation loss), training
    history, the paths written and, where the Test split is labelled, the same scores on Test ("test").
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    _guard_config(workdir, config)
    data = load_data(config, workdir)
    states, scaler, model = fit(config, data, workdir, progress=progress)
    params = seeds.final_params(states, config.restore)
    per_seed = evaluate_seeds(config, data, data.val, params, scaler, model)
    mean, std = report.summary(per_seed)
    trivial = evaluate.score(
        data.tasks, evaluate.trivial_predictions(data.tasks, data.train.labels, len(data.val)),
        data.val.labels, data.column_names, config.ccc_variant,
    )
    best_val = np.asarray(states.best_loss if config.restore == "best" else np.nanmin(np.asarray(states.val_loss), 1))
    choice = int(np.argmax([evaluate.selection_score(s, float(v)) for s, v in zip(per_seed, best_val)]))
    bundle = ModelBundle(model, seeds.unstack(params, choice), scaler, config.feature_set, config.dataset,
                         int(config.seeds[choice]), dict(data.column_names), target_scaling(config, data))
    train_loss, val_loss = np.asarray(states.train_loss), np.asarray(states.val_loss)  # [S, E]
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
        "best_epoch": [int(e) + 1 for e in np.asarray(states.best_epoch)],
        "epochs_run": [int(e) for e in np.asarray(states.epoch)],
        "history": {"train_loss": train_loss.tolist(), "val_loss": val_loss.tolist()},
    }
    paths = {
        "markdown": workdir / "results.md",
        "json": workdir / "results.json",
        "plot": workdir / "losses.png",
        "model": save_bundle(workdir, bundle),
    }
    if data.test is not None and data.test.labels is not None:  # held-out scores where Test labels exist
        test_scores = evaluate_seeds(config, data, data.test, params, scaler, model)
        test_mean, test_std = report.summary(test_scores)
        results["test"] = {"per_seed": test_scores, "mean": test_mean, "std": test_std}
    results["paths"] = {k: str(v) for k, v in paths.items()}
    write_text(paths["markdown"], report.render_markdown(results))
    report.write_json(paths["json"], results)
    report.plot_losses(paths["plot"], results["seeds"], train_loss, val_loss,
                       f"{config.dataset} / {config.feature_set}")
    return results
