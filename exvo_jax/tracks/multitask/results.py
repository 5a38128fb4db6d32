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
from exvo_jax.tracks.multitask import ensemble, report, scoring, seeds
from exvo_jax.tracks.multitask.bundle import ModelBundle, save_bundle
from exvo_jax.tracks.multitask.config import MultitaskSettings
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData, target_scaling
from exvo_jax.tracks.multitask.yardstick import yardstick_results


def seed_outputs(settings: MultitaskSettings, data: MultitaskData, split: SplitData, params, scaler: StandardScaler,
                 model: MultitaskNet, mesh: Mesh) -> dict[str, np.ndarray]:
    """`{task: [S, N, k]}` outputs of every real seed (stacked `params` on `mesh`), regressions in label units."""
    x = place(scaler.transform(split.features), replicated(mesh))
    outputs = {k: v[:len(settings.seeds)] for k, v in to_host(seeds.make_predict(model, mesh)(params, x)).items()}
    for name, (mean, std) in target_scaling(settings, data).items():
        outputs[name] = outputs[name] * std + mean
    return outputs


def score_outputs(settings: MultitaskSettings, data: MultitaskData, split: SplitData,
                  outputs: dict[str, np.ndarray]) -> dict[str, float]:
    """Scores of one predictor's outputs `{task: [N, k]}` on a labelled split."""
    predictions = {t.name: scoring.as_labels(t, outputs[t.name]) for t in data.tasks}
    return scoring.score(data.tasks, predictions, split.labels, data.column_names, settings.ccc_variant)


def exported_predictor(settings: MultitaskSettings, data: MultitaskData, per_seed_val: dict[str, np.ndarray],
                       choice: int):
    """What `predict` will use, from the seeds' Val outputs: `(seed indices, shrinkage, Val outputs)`: every
    seed combined where `settings.ensemble`, else the selected one; regressions shrunk where `settings.shrink`."""
    chosen = list(range(len(settings.seeds))) if settings.ensemble else [choice]
    outputs = ensemble.combine(data.tasks, {k: v[chosen] for k, v in per_seed_val.items()})
    shrinkage = (ensemble.choose_shrinkage(data.tasks, outputs, data.val.labels, data.train.labels)
                 if settings.shrink else {})
    return chosen, shrinkage, ensemble.shrink(outputs, shrinkage)


def score_and_export(settings: MultitaskSettings, data: MultitaskData, run: Run, mesh: Mesh, states: seeds.SeedState,
                     scaler: StandardScaler, model: MultitaskNet) -> dict:
    """Scores, the selected seed's model export and the run's tables and plot (process 0)."""
    n = len(settings.seeds)
    params = seeds.final_params(states, settings.restore)
    val_outputs = seed_outputs(settings, data, data.val, params, scaler, model, mesh)
    per_seed = [score_outputs(settings, data, data.val, {k: v[i] for k, v in val_outputs.items()}) for i in range(n)]
    mean, std = report.summary(per_seed)
    trivial = scoring.score(
        data.tasks, scoring.trivial_predictions(data.tasks, data.train.labels, len(data.val)),
        data.val.labels, data.column_names, settings.ccc_variant,
    )
    host = jax.tree_util.tree_map(lambda v: v[:n], to_host({
        "best_loss": states.best_loss, "best_epoch": states.best_epoch, "epoch": states.epoch,
        "train_loss": states.train_loss, "val_loss": states.val_loss, "params": params}))
    best_val = host["best_loss"] if settings.restore == "best" else np.nanmin(host["val_loss"], 1)
    choice = int(np.argmax([scoring.selection_score(s, float(v)) for s, v in zip(per_seed, best_val)]))
    members, shrinkage, exported_val = exported_predictor(settings, data, val_outputs, choice)
    bundle = ModelBundle(model, jax.tree_util.tree_map(lambda x: x[np.array(members)], host["params"]), scaler,
                         settings.feature_set, settings.dataset, [int(settings.seeds[i]) for i in members],
                         dict(data.column_names), target_scaling(settings, data), bool(settings.recompute_features),
                         shrinkage)
    results = {
        "dataset": settings.dataset,
        "feature_set": settings.feature_set,
        "tasks": [t.name for t in data.tasks],
        "restore": settings.restore,
        "seeds": [int(s) for s in settings.seeds],
        "per_seed": per_seed,
        "mean": mean,
        "std": std,
        "trivial": trivial,
        "best_seed": int(settings.seeds[choice]),
        "best_epoch": [int(e) + 1 for e in host["best_epoch"]],
        "epochs_run": [int(e) for e in host["epoch"]],
        "history": {"train_loss": host["train_loss"].tolist(), "val_loss": host["val_loss"].tolist()},
        "exported": {"seeds": bundle.seeds, "shrinkage": {k: list(v) for k, v in shrinkage.items()},
                     "val": score_outputs(settings, data, data.val, exported_val)},
    }
    labelled_test = data.test is not None and data.test.labels is not None
    if labelled_test:  # held-out scores where Test labels exist
        test_outputs = seed_outputs(settings, data, data.test, params, scaler, model, mesh)
        test_scores = [score_outputs(settings, data, data.test, {k: v[i] for k, v in test_outputs.items()})
                       for i in range(n)]
        test_mean, test_std = report.summary(test_scores)
        exported_test = ensemble.shrink(ensemble.combine(
            data.tasks, {k: v[np.array(members)] for k, v in test_outputs.items()}), shrinkage)
        results["exported"]["test"] = score_outputs(settings, data, data.test, exported_test)
        test_trivial = scoring.score(
            data.tasks, scoring.trivial_predictions(data.tasks, data.train.labels, len(data.test)),
            data.test.labels, data.column_names, settings.ccc_variant)
        results["test"] = {"per_seed": test_scores, "mean": test_mean, "std": test_std, "trivial": test_trivial}
    results["yardstick"] = yardstick_results(
        data.tasks, scaler.transform(data.train.features), data.train.labels, scaler.transform(data.val.features),
        data.val.labels, data.column_names, settings.ccc_variant,
        *((scaler.transform(data.test.features), data.test.labels) if labelled_test else ()))
    paths = {name: run.workdir / file for name, file in report.OUTPUTS.items()}
    results["paths"] = {k: str(v) for k, v in {**paths, "model": save_bundle(run.workdir, bundle)}.items()}
    report.write_outputs(run, results)
    return results
