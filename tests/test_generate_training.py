"""Generate track training runs on the shared synthetic corpus: exact resume, stacked models = separate runs,
also with the models and mini-batches spread over 8 devices."""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import numpy as np
import pytest

from exvo_jax.run import import_model
from exvo_jax.tracks import generate
from tests.support.child_processes import child_env
from tests.support.configs import generate_settings
from tests.support.paths import REPO
from tests.support.stacked_gans import EMOTIONS_USED, STEPS

# One worker runs the whole module, so its module-scoped fixtures are built once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("generate_training")

CHILD = "tests.support.children.generate"


def train(corpus, workdir, emotions, steps, **overrides):
    return generate.train(generate_settings(corpus, emotions, steps, **overrides), workdir, progress=False)


@pytest.fixture(scope="module")
def separate_runs(synthetic_corpus, tmp_path_factory):
    """Each emotion's GAN trained alone for STEPS iterations: {emotion: (workdir, result)}."""
    runs = {}
    for emotion in EMOTIONS_USED:
        workdir = tmp_path_factory.mktemp(f"alone_{emotion}")
        runs[emotion] = (workdir, train(synthetic_corpus, workdir, (emotion,), STEPS))
    return runs


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(synthetic_corpus, separate_runs, tmp_path):
    emotion = EMOTIONS_USED[0]
    full_dir, full = separate_runs[emotion]
    half = train(synthetic_corpus, tmp_path, (emotion,), STEPS // 2)
    assert half["step"] == STEPS // 2
    resumed = train(synthetic_corpus, tmp_path, (emotion,), STEPS)  # steps is a watch field: the run continues
    assert resumed["step"] == STEPS
    for a, b in zip(leaves(full["states"]), leaves(resumed["states"]), strict=True):
        np.testing.assert_array_equal(a, b)
    exported = [import_model(d)[0]["ema_params"] for d in (full_dir, tmp_path)]
    for a, b in zip(leaves(exported[0]), leaves(exported[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "d_loss" in m] == [1, 2, 3, 4]
    assert not (tmp_path / "samples").exists()


def losses_per_iteration(workdir, suffix=""):
    lines = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return np.array([[m["g_loss" + suffix], m["d_loss" + suffix]] for m in lines if "d_loss" in m])  # [steps, 2]


@pytest.mark.parametrize("strategy", ["auto", "vmap"])  # auto: lax.map over the models on CPU
def test_stacked_models_train_as_separate_runs(synthetic_corpus, separate_runs, tmp_path, strategy):
    """The same batches and initial weights per model, and losses equal up to float rounding (rtol 1e-3).

    Weights are compared loosely: rounding flips the sign of near-zero gradients, which Adam turns into
    steps of the learning rate; the models' own initial weights differ by O(1), so a mix-up still shows.
    """
    stacked = train(synthetic_corpus, tmp_path, EMOTIONS_USED, STEPS, strategy=strategy)
    assert stacked["names"] == list(EMOTIONS_USED)
    for s, emotion in enumerate(EMOTIONS_USED):
        workdir, alone = separate_runs[emotion]
        together = losses_per_iteration(tmp_path, f"/{emotion}")
        np.testing.assert_allclose(together[0], losses_per_iteration(workdir)[0], rtol=1e-5)
        np.testing.assert_allclose(together, losses_per_iteration(workdir), rtol=1e-3)
        mine = jax.tree.map(lambda x: x[s], (stacked["states"].g_params, stacked["states"].d_params))
        for a, b in zip(leaves(mine), leaves((alone["states"].g_params, alone["states"].d_params)), strict=True):
            np.testing.assert_allclose(a, b[0], atol=0.05)


@pytest.mark.slow
def test_models_and_mini_batches_spread_over_eight_devices(synthetic_corpus, separate_runs, tmp_path):
    """In a child process with 8 CPU devices, on a 2 x 4 mesh (models over `seeds`, every mini-batch split
    over `data`, D's minibatch statistic still the whole batch's): each model trains as it does alone on one
    device, losses equal to rtol 1e-3."""
    result = subprocess.run([sys.executable, "-m", CHILD, str(synthetic_corpus), str(tmp_path)], env=child_env(8),
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert (facts["devices"], facts["names"], facts["step"]) == (8, list(EMOTIONS_USED), STEPS)
    spec, mesh, shape, shard = facts["g_params_sharding"]
    assert "seeds" in spec and mesh == {"seeds": 2, "data": 4} and shape[0] == 2 and shard[0] == 1, facts
    for emotion in EMOTIONS_USED:
        np.testing.assert_allclose(losses_per_iteration(tmp_path, f"/{emotion}"),
                                   losses_per_iteration(separate_runs[emotion][0]), rtol=1e-3)
