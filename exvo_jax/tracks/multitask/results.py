"""After training: every seed scored on Val (and Test where labelled) beside the trivial predictor and the
linear yardstick, one seed selected on Val, its model exported and the run's tables and plot written."""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh

from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.parallel import place, replicated, to_host
from exvo_jax.run import Run
from exvo_jax.tracks.multitask import evaluate, report, seeds
from exvo_jax.tracks.multitask.bundle import ModelBundle, save_bundle
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData, target_scaling
from exvo_jax.tracks.multitask.yardstick import yardstick_results


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


def score_and_export(config, data: MultitaskData, run: Run, mesh: Mesh, states: seeds.SeedState, scaler: StandardScaler,
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
                         target_scaling(config, data), bool(config.recompute_features))
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
    labelled_test = data.test is not None and data.test.labels is not None
    if labelled_test:  # held-out scores where Test labels exist
        test_scores = evaluate_seeds(config, data, data.test, params, scaler, model, mesh)
        test_mean, test_std = report.summary(test_scores)
        test_trivial = evaluate.score(
            data.tasks, evaluate.trivial_predictions(data.tasks, data.train.labels, len(data.test)),
            data.test.labels, data.column_names, config.ccc_variant)
        results["test"] = {"per_seed": test_scores, "mean": test_mean, "std": test_std, "trivial": test_trivial}
    results["yardstick"] = yardstick_results(
        data.tasks, scaler.transform(data.train.features), data.train.labels, scaler.transform(data.val.features),
        data.val.labels, data.column_names, config.ccc_variant,
        *((scaler.transform(data.test.features), data.test.labels) if labelled_test else ()))
    paths = {name: run.workdir / file for name, file in report.OUTPUTS.items()}
    results["paths"] = {k: str(v) for k, v in {**paths, "model": save_bundle(run.workdir, bundle)}.items()}
    report.write_outputs(run, results)
    return results
