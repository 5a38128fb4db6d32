"""Seeds combined and regressions shrunk: the arithmetic, the choice on Val, and the exported model predicting
exactly what the run scored."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.multitask import MultitaskNet, TaskSpec
from exvo_jax.tracks.multitask.bundle import ModelBundle, load_bundle, save_bundle
from exvo_jax.tracks.multitask.ensemble import choose_shrinkage, combine, shrink

TASKS = (TaskSpec("age", "regression", 1), TaskSpec("sex", "classification", 2))


def test_combine_averages_probabilities_and_values():
    logits = np.log(np.array([[[0.9, 0.1]], [[0.3, 0.7]]]))  # [S=2, N=1, 2]
    combined = combine(TASKS, {"age": np.array([[[20.0]], [[30.0]]]), "sex": logits})
    np.testing.assert_allclose(np.exp(combined["sex"]), [[0.6, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(combined["age"], [[25.0]])
    # Every seed sure of class 0: class 1's log-probability is about -1000, never -inf (argmax and scores stay finite).
    sure = combine(TASKS, {"age": np.zeros((2, 1, 1)), "sex": np.array([[[0.0, -1000.0]], [[0.0, -1001.0]]])})
    assert np.all(np.isfinite(sure["sex"])) and -1001.0 < sure["sex"][0, 1] < -999.0


def test_shrinkage_is_chosen_on_val_toward_the_training_mean():
    rng = np.random.default_rng(0)
    truth = rng.normal(40, 5, 200)
    train = {"age": np.full(50, 40.0)}
    noise = {"age": (40 + rng.normal(0, 10, 200))[:, None]}  # unrelated to the truth: shrink all the way
    signal = {"age": truth[:, None]}  # exact: keep as it is
    assert choose_shrinkage(TASKS, noise, {"age": truth}, train)["age"] == (40.0, 0.0)
    assert choose_shrinkage(TASKS, signal, {"age": truth}, train)["age"] == (40.0, 1.0)
    np.testing.assert_allclose(shrink({"age": np.array([50.0])}, {"age": (40.0, 0.3)})["age"], [43.0])


def test_an_exported_ensemble_predicts_the_combined_shrunk_outputs(tmp_path):
    model = MultitaskNet(TASKS, trunk=(8,), head_hidden=4)
    members = [model.init(jax.random.PRNGKey(s), jnp.zeros((1, 5)))["params"] for s in (1, 2, 3)]
    stacked = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *members)
    x = np.random.default_rng(1).normal(size=(7, 5)).astype(np.float32)
    scaler = StandardScaler.fit(x)
    bundle = ModelBundle(model, stacked, scaler, "eGeMAPS", "nonverbal", [1, 2, 3], {}, {"age": (30.0, 4.0)},
                         False, {"age": (31.0, 0.5)})
    save_bundle(tmp_path, bundle)
    loaded = load_bundle(tmp_path)
    assert loaded.seeds == [1, 2, 3] and loaded.shrinkage == {"age": (31.0, 0.5)}
    per_seed = [model.apply({"params": p}, jnp.asarray(scaler.transform(x)))[0] for p in members]
    outputs = {k: np.stack([np.asarray(o[k]) for o in per_seed]) for k in ("age", "sex")}
    outputs["age"] = outputs["age"] * 4.0 + 30.0
    want = shrink(combine(TASKS, outputs), {"age": (31.0, 0.5)})
    got = loaded.predict(x)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-5)
