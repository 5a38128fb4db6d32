"""A trained multitask model as saved for prediction: network settings, tasks, scaler and parameters.

`<workdir>/model/` holds `model.json` (everything but arrays) and an orbax checkpoint `arrays/` with the
parameters of the selected seed and the feature scaler fit on the training split.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from exvo_jax.atomic import write_text
from exvo_jax.data.errors import DataError
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet, TaskSpec

MODEL_DIR = "model"


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
    root = Path(workdir) / MODEL_DIR
    root.mkdir(parents=True, exist_ok=True)
    meta = {
        "tasks": [dataclasses.asdict(t) for t in bundle.model.tasks],
        "trunk": list(bundle.model.trunk),
        "head_hidden": bundle.model.head_hidden,
        "log_var_init": bundle.model.log_var_init,
        "feature_set": bundle.feature_set,
        "dataset": bundle.dataset,
        "seed": bundle.seed,
        "dim": int(bundle.scaler.mean.shape[0]),
        "column_names": {k: list(v) for k, v in bundle.column_names.items()},
        "target_scaling": {k: list(v) for k, v in bundle.target_scaling.items()},
    }
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save((root / "arrays").absolute(), {"params": bundle.params, "scaler": bundle.scaler.to_arrays()},
                      force=True)
    checkpointer.wait_until_finished()
    write_text(root / "model.json", json.dumps(meta, indent=2) + "\n")
    return root


def load_bundle(workdir: str | Path) -> ModelBundle:
    root = Path(workdir) / MODEL_DIR
    if not (root / "model.json").exists():
        raise DataError(f"{root}: no trained model here (model.json is missing); run `exvo-jax multitask train` first")
    meta = json.loads((root / "model.json").read_text())
    model = MultitaskNet(
        tasks=tuple(TaskSpec(**t) for t in meta["tasks"]),
        trunk=tuple(meta["trunk"]),
        head_hidden=meta["head_hidden"],
        log_var_init=meta["log_var_init"],
    )
    dim = meta["dim"]
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, dim), jnp.float32))["params"]
    target = {"params": params, "scaler": {"mean": np.zeros(dim, np.float32), "scale": np.zeros(dim, np.float32)}}
    arrays = ocp.StandardCheckpointer().restore((root / "arrays").absolute(), target)
    return ModelBundle(
        model=model,
        params=arrays["params"],
        scaler=StandardScaler.from_arrays(_numpy(arrays["scaler"])),
        feature_set=meta["feature_set"],
        dataset=meta["dataset"],
        seed=meta["seed"],
        column_names={k: tuple(v) for k, v in meta["column_names"].items()},
        target_scaling={k: (float(v[0]), float(v[1])) for k, v in meta.get("target_scaling", {}).items()},
    )


def _numpy(tree: Mapping) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in tree.items()}
