"""A trained multitask model as saved for prediction: network settings, tasks, scaler and parameters.

The run layer's model export (`exvo_jax.run.export_model`): `<workdir>/model/model.json` holds everything
but arrays, `model/arrays/` the parameters of the exported seeds (stacked: the selected seed, or every seed
of an ensemble) and the feature scaler fit on the training split. `predict` reads it with `load_bundle`,
without opening the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet, TaskSpec
from exvo_jax.run import export_model, import_model
from exvo_jax.tracks.multitask.ensemble import combine, shrink


@dataclasses.dataclass(frozen=True)
class ModelBundle:
    """Everything needed to turn raw features into predictions."""

    model: MultitaskNet
    params: dict  # stacked over `seeds`: [M, ...]
    scaler: StandardScaler
    feature_set: str
    dataset: str
    seeds: list[int]  # the seeds whose predictions are combined (one: the selected seed)
    column_names: dict[str, tuple[str, ...]]
    target_scaling: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # task -> (mean, std)
    recompute_features: bool = False  # trained on features computed from audio even where the release ships CSVs
    shrinkage: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # task -> (mean, factor)

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Raw features [N, D] -> outputs {task: [N, k]}: sigmoids for intensities, logits (log mean
        probabilities over seeds) for classes, regression values in label units (shrunk where chosen)."""
        x = jnp.asarray(self.scaler.transform(features))
        outputs, _ = jax.jit(jax.vmap(lambda p: self.model.apply({"params": p}, x)))(self.params)  # [M, N, k]
        outputs = {k: np.asarray(v) for k, v in outputs.items()}
        for name, (mean, std) in self.target_scaling.items():
            outputs[name] = outputs[name] * std + mean
        return shrink(combine(self.model.tasks, outputs), self.shrinkage)


def save_bundle(workdir: str | Path, bundle: ModelBundle) -> Path:
    """Exports the bundle to `<workdir>/model/` (on every process of a multi-process run); returns that folder."""
    meta = {
        "tasks": [dataclasses.asdict(t) for t in bundle.model.tasks],
        "trunk": list(bundle.model.trunk),
        "head_hidden": bundle.model.head_hidden,
        "log_var_init": bundle.model.log_var_init,
        "init_scheme": bundle.model.init_scheme,
        "recompute_features": bundle.recompute_features,
        "feature_set": bundle.feature_set,
        "dataset": bundle.dataset,
        "seeds": list(bundle.seeds),
        "shrinkage": {k: list(v) for k, v in bundle.shrinkage.items()},
        "dim": int(bundle.scaler.mean.shape[0]),
        "column_names": {k: list(v) for k, v in bundle.column_names.items()},
        "target_scaling": {k: list(v) for k, v in bundle.target_scaling.items()},
    }
    return export_model(workdir, {"params": bundle.params, "scaler": bundle.scaler.to_arrays()}, meta)


def _network(meta: Mapping) -> MultitaskNet:
    return MultitaskNet(tasks=tuple(TaskSpec(**t) for t in meta["tasks"]), trunk=tuple(meta["trunk"]),
                        head_hidden=meta["head_hidden"], log_var_init=meta["log_var_init"],
                        init_scheme=meta.get("init_scheme", "flax"))


def _template(meta: Mapping) -> dict:
    dim = meta["dim"]
    one = _network(meta).init(jax.random.PRNGKey(0), jnp.zeros((1, dim), jnp.float32))["params"]
    params = jax.tree_util.tree_map(lambda x: np.zeros((len(meta["seeds"]), *x.shape), x.dtype), one)
    return {"params": params, "scaler": {"mean": np.zeros(dim, np.float32), "scale": np.zeros(dim, np.float32)}}


def load_bundle(workdir: str | Path) -> ModelBundle:
    """The model exported by `exvo-jax multitask train` in `workdir` (a `DataError` where there is none)."""
    arrays, meta = import_model(workdir, _template, command="exvo-jax multitask train")
    return ModelBundle(
        model=_network(meta),
        params=arrays["params"],
        scaler=StandardScaler.from_arrays({k: np.asarray(v) for k, v in arrays["scaler"].items()}),
        feature_set=meta["feature_set"],
        dataset=meta["dataset"],
        seeds=[int(s) for s in meta["seeds"]],
        column_names={k: tuple(v) for k, v in meta["column_names"].items()},
        target_scaling={k: (float(v[0]), float(v[1])) for k, v in meta.get("target_scaling", {}).items()},
        recompute_features=bool(meta.get("recompute_features", False)),
        shrinkage={k: (float(v[0]), float(v[1])) for k, v in meta.get("shrinkage", {}).items()},
    )
