"""Multitask inputs that would silently give a wrong model: non-finite rows, a diverging loss, the feature
source and the initialisation recorded with the run and the exported model."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.data.errors import DataError
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import TaskSpec
from exvo_jax.run import data_fingerprint, open_run
from exvo_jax.tracks.multitask import data as data_module
from exvo_jax.tracks.multitask import training as train
from exvo_jax.tracks.multitask.bundle import ModelBundle, load_bundle, save_bundle
from exvo_jax.tracks.multitask.config import WATCH, MultitaskSettings
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData
from tests.support.release_factory import small_release

TASKS = (TaskSpec("emotion", "intensity", 10), TaskSpec("age", "regression", 1), TaskSpec("country", "classification", 4))


def split(rng: np.random.Generator, n: int, prefix: str) -> SplitData:
    x = rng.normal(size=(n, 12)).astype(np.float32)
    labels = {"emotion": rng.uniform(size=(n, 10)).astype(np.float32), "age": (28 + 4 * x[:, 0]).astype(np.float32),
              "country": rng.integers(0, 4, n).astype(np.int32)}
    return SplitData(tuple(f"{prefix}{i}" for i in range(n)), x, labels)


@pytest.fixture()
def data() -> MultitaskData:
    rng = np.random.default_rng(0)
    return MultitaskData(TASKS, split(rng, 24, "t"), split(rng, 8, "v"), None, {})


def test_non_finite_features_or_labels_are_refused_with_the_clips_named(data):
    data_module.check_finite(data, "corpus")  # all finite: no error
    data.train.features[3, 5] = np.nan
    data.val.labels["age"][1] = np.inf
    with pytest.raises(DataError, match=r"corpus: Train clip\(s\) t3: features or labels are NaN or infinite"):
        data_module.check_finite(data, "corpus")
    data.train.features[3, 5] = 0.0
    with pytest.raises(DataError, match=r"corpus: Val clip\(s\) v1: "):
        data_module.check_finite(data, "corpus")


def test_a_diverging_loss_stops_training_naming_the_outlying_clips(data, tmp_path):
    data.train.features[7] = 1e30  # finite; standardised, the farthest out at |z| = sqrt(23) = 4.8
    config = MultitaskSettings(seeds=(1,), max_epochs=3, learning_rate=1e38)  # the weights overflow
    with open_run(tmp_path / "run", config, data_fingerprint([]), watch_fields=WATCH) as run:
        with pytest.raises(FloatingPointError, match=r"epoch 1 for seed\(s\) \[1\]: .*t7 \(\|z\| 4\.8"):
            train.fit(config, data, run, progress=False)


def test_the_init_scheme_reaches_the_network_and_the_exported_model(data, tmp_path):
    model = train.model_from(MultitaskSettings(init_scheme="torch"), data)
    assert model.init_scheme == "torch"
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 12)))["params"]
    assert np.abs(np.asarray(params["dense_0"]["bias"])).max() > 0  # the torch scheme's biases are not zero
    stacked = jax.tree_util.tree_map(lambda x: x[None], params)
    bundle = ModelBundle(model, stacked, StandardScaler.fit(data.train.features), "eGeMAPS", "exvo", [1], {}, {}, True)
    save_bundle(tmp_path, bundle)
    loaded = load_bundle(tmp_path)
    assert loaded.model.init_scheme == "torch" and loaded.recompute_features


def test_recompute_features_fingerprints_the_audio_not_the_shipped_csvs(tmp_path, monkeypatch):
    root = small_release(tmp_path / "release")
    monkeypatch.setattr(data_module, "has_official", lambda corpus, clips, feature_set: True)  # every split ships CSVs
    config = MultitaskSettings(data_dir=str(root), feature_set="eGeMAPS")
    shipped = data_module.input_files(config)
    assert not any(p.suffix == ".wav" for p in shipped)
    computed = data_module.input_files(dataclasses.replace(config, recompute_features=True))
    assert sum(p.suffix == ".wav" for p in computed) == 12 and not any(p.suffix == ".csv" and "feats" in p.parts
                                                                        for p in computed)
