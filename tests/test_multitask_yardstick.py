"""The linear yardstick: closed-form ridge paths equal scikit-learn's, regularisation chosen on Val only, and
the yardstick's rows in every multitask table."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from exvo_jax.models.multitask import TaskSpec
from exvo_jax.tracks.multitask.report import render_markdown
from exvo_jax.models.ridge import ridge_paths
from exvo_jax.tracks.multitask.yardstick import RIDGE_ALPHAS, yardstick_results

TASKS = (TaskSpec("emotion", "intensity", 3), TaskSpec("age", "regression", 1), TaskSpec("country", "classification", 3))


@pytest.mark.parametrize("rows", [12, 60])  # fewer rows than features (dual solve) and more (primal)
def test_ridge_paths_equal_scikit_learn(rows):
    rng = np.random.default_rng(rows)
    x, y, other = rng.normal(size=(rows, 20)), rng.normal(size=(rows, 2)), rng.normal(size=(5, 20))
    paths = ridge_paths(x, y, (0.1, 10.0), other)
    for alpha, (prediction,) in zip((0.1, 10.0), paths):
        np.testing.assert_allclose(prediction, Ridge(alpha=alpha).fit(x, y).predict(other), rtol=1e-8, atol=1e-10)


def labelled(rng: np.random.Generator, n: int):
    x = rng.normal(size=(n, 30))
    labels = {"emotion": 1 / (1 + np.exp(-x[:, :3] - 0.3 * rng.normal(size=(n, 3)))),
              "age": 30 + 5 * x[:, 3] + rng.normal(size=n),
              "country": np.argmax(x[:, 4:7] + 0.5 * rng.normal(size=(n, 3)), 1)}
    return x, labels


def test_the_yardstick_learns_and_its_choice_never_sees_test():
    rng = np.random.default_rng(0)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (labelled(rng, n) for n in (200, 60, 60))
    results = yardstick_results(TASKS, x_train, y_train, x_val, y_val, {}, x_test=x_test, test_labels=y_test)
    test = results["test"]
    assert test["Mean CCC"] > 0.6 and test["Age MAE"] < 1.6 and test["Country UAR"] > 0.6
    assert results["chosen"]["age"] in RIDGE_ALPHAS
    shuffled = {k: v[::-1] for k, v in y_test.items()}  # Test labels never enter the choice
    again = yardstick_results(TASKS, x_train, y_train, x_val, y_val, {}, x_test=x_test, test_labels=shuffled)
    assert again["chosen"] == results["chosen"] and again["val"] == results["val"]

    table = render_markdown({"feature_set": "eGeMAPS", "seeds": [1], "per_seed": [results["val"]], "best_seed": 1,
                             "mean": results["val"], "std": results["val"], "trivial": results["val"],
                             "yardstick": results, "test": {"mean": test, "std": test, "trivial": test}})
    assert "| linear yardstick (chosen on Val) |" in table and "| Test: linear yardstick |" in table
    assert "| eGeMAPS: linear yardstick (chosen on Val) |" in render_markdown([
        {"feature_set": "eGeMAPS", "mean": results["val"], "std": results["val"], "yardstick": results}])
