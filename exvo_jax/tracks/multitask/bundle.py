"""A trained multitask model as saved for prediction: network settings, tasks, scaler and parameters.

The run layer's model export (`exvo_jax.run.export_model`): `<workdir>/model/model.json` holds everything
but arrays, `model/arrays/` the parameters of the selected seed and the feature scaler fit on the
training split. `predict` reads it with `load_bundle`, without opening the run.
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


@dataclasses.dataclass(frozen=True)
class ModelBundle:
    """Everything needed to turn raw features into predictions."""

    model: MultitaskNet
    params: dict
    scaler: StandardScaler
    feature_set: str
    dataset: str
    seed: int
    column_names: dict[str, tuple[str, ...]]
    target_scaling: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # task -> (mean, std)
    recompute_features: bool = False  # trained on features computed from audio even where the release ships CSVs

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Raw features [N, D] -> outputs {task: [N, k]}: sigmoids for intensities, logits for classes,
        regression values in label units."""
        x = jnp.asarray(self.scaler.transform(features))
        outputs, _ = jax.jit(self.model.apply)({"params": self.params}, x)
        outputs = {k: np.asarray(v) for k, v in outputs.items()}
        for name, (mean, std) in self.target_scaling.items():
            outputs[name] = outputs[name] * std + mean
        return outputs


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
        "seed": bundle.seed,
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
    params = _network(meta).init(jax.random.PRNGKey(0), jnp.zeros((1, dim), jnp.float32))["params"]
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
        seed=meta["seed"],
        column_names={k: tuple(v) for k, v in meta["column_names"].items()},
        target_scaling={k: (float(v[0]), float(v[1])) for k, v in meta.get("target_scaling", {}).items()},
        recompute_features=bool(meta.get("recompute_features", False)),
    )
