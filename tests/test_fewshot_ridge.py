"""The `ridge` adaptation mode: a batched float32 solve equal to a per-speaker float64 one, its limits, its settings."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from exvo_jax.config_files import load_config
from exvo_jax.models.cnn_lstm import SequenceHead
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, SpeakerTask, personalise
from exvo_jax.tracks.fewshot.head_params import split_params
from exvo_jax.tracks.fewshot.ridge_head import frame_features
from exvo_jax.tracks.fewshot.selection import Selection, adapt_settings, adaptation_grid, describe
from tests.support.speaker_tasks import BUCKETS, FEATURES, HIDDEN, OUTPUTS, make_tasks


@pytest.fixture(scope="module")
def head_params():
    init = jax.jit(SequenceHead(HIDDEN, OUTPUTS).init)
    return init(jax.random.key(0), np.zeros((1, 2, FEATURES), np.float32))["params"]


@pytest.fixture(scope="module")
def hidden_of(head_params):
    """Top LSTM outputs `[T, H]` of one clip, as float64 (run padded to the longest clip: the LSTM is causal)."""
    program = jax.jit(lambda x: frame_features(SequenceHead(HIDDEN, OUTPUTS), head_params, x))
    return lambda clip: np.asarray(program(np.pad(clip, ((0, BUCKETS[-1] - len(clip)), (0, 0)))[None])[0, : len(clip)],
                                   np.float64)


def numpy_ridge(task: SpeakerTask, hidden_of, kernel, bias, strength: float) -> np.ndarray:
    """One speaker's query predictions from a float64 solve of the ridge problem, frame by frame."""
    rows, weights, targets = [], [], []
    for clip, label in zip(task.support, task.targets):
        hidden = hidden_of(clip)
        rows.append(np.hstack([hidden, np.ones((len(clip), 1))]))
        weights.append(np.full(len(clip), 1.0 / (len(task.support) * len(clip))))
        targets.append(np.repeat(label[None].astype(np.float64), len(clip), axis=0))
    phi, w, y = np.vstack(rows), np.concatenate(weights), np.vstack(targets)
    prior = np.vstack([kernel, bias[None]]).astype(np.float64)
    gram = phi.T @ (w[:, None] * phi) + strength * np.eye(phi.shape[1])
    solved = np.linalg.solve(gram, phi.T @ (w[:, None] * y) + strength * prior)
    last = np.array([np.append(hidden_of(q)[-1], 1.0) for q in task.query]).reshape(-1, phi.shape[1])
    return last @ solved


def run_ridge(head_params, tasks, strength: float) -> list[np.ndarray]:
    settings = AdaptSettings(mode="ridge", ridge_strength=strength, chunk_size=8)
    return personalise(head_params, tasks, settings, hidden=HIDDEN, outputs=OUTPUTS, buckets=BUCKETS)


@pytest.mark.parametrize("strength, longest", [(1e-3, 10), (0.1, 10), (10.0, 10), (1e-3, 5), (0.1, 5)])
def test_batched_ridge_equals_a_per_speaker_float64_solve(head_params, hidden_of, strength, longest):
    """Support padded to 10 frames: 20 rows, 13 columns (the [H + 1] system); to 5: 10 rows (the [N] system)."""
    tasks = make_tasks(7, longest=longest)
    kernel, bias = np.asarray(head_params["dense"]["kernel"]), np.asarray(head_params["dense"]["bias"])
    for task, ours in zip(tasks, run_ridge(head_params, tasks, strength)):  # (vmap = map: test_fewshot_adapt)
        reference = numpy_ridge(task, hidden_of, kernel, bias, strength)
        assert ours.shape == (len(task.query), OUTPUTS)
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max(initial=1.0))


def test_strength_moves_between_the_trained_head_and_the_support_fit(head_params, hidden_of):
    """A huge strength gives back the trained head; a small one fits the support labels better than it."""
    tasks = make_tasks(5, seed=1)
    support_as_query = [SpeakerTask(t.speaker, t.support, t.targets, t.support) for t in tasks]
    trained = personalise(head_params, support_as_query, AdaptSettings(steps=0), hidden=HIDDEN, outputs=OUTPUTS,
                          buckets=BUCKETS)
    for frozen, kept in zip(trained, run_ridge(head_params, support_as_query, 1e7)):
        np.testing.assert_allclose(kept, frozen, atol=1e-5)
    fitted = run_ridge(head_params, support_as_query, 1e-4)
    for task, frozen, ours in zip(support_as_query, trained, fitted):
        assert np.mean((ours - task.targets) ** 2) < 0.5 * np.mean((frozen - task.targets) ** 2)


def test_ridge_settings():
    assert describe(AdaptSettings(mode="ridge", ridge_strength=0.5)) == "ridge, strength=0.5"
    assert describe(AdaptSettings(mode="full", steps=3, learning_rate=0.01)) == "full, K=3, lr=0.01"
    with pytest.raises(ValueError, match="ridge_strength > 0"):
        AdaptSettings(mode="ridge", ridge_strength=0.0)


def test_ridge_adapts_only_the_output_layer(head_params):
    _, personal = split_params(head_params, "ridge")
    assert sorted(personal) == [("dense", "bias"), ("dense", "kernel")]


def test_the_selection_grid_holds_ridge_strengths_and_may_pick_them():
    config = load_config("experiments/fewshot/tiny.py")
    config.adapt.modes = ("bias_head", "ridge")
    config.adapt.steps, config.adapt.learning_rates, config.adapt.ridge_strengths = (5, 10), (1e-2,), (0.1, 1.0)
    points = adaptation_grid(config)
    assert [describe(p) for p in points] == ["bias_head, K=5, lr=0.01", "bias_head, K=10, lr=0.01",
                                             "ridge, strength=0.1", "ridge, strength=1"]
    scores = [0.2, 0.3, 0.25, 0.35]
    selection = Selection(points, [{"mode": p.mode, "val_mean_ccc": v} for p, v in zip(points, scores)])
    assert selection.best() == points[3] and selection.best(("ridge",)) == points[3]
    # what needs optimiser steps (episodic training) takes the best gradient point when ridge wins
    assert selection.best(("bias_head",)) == points[1] == selection.gradient_settings(config)
    only_ridge = Selection(points[2:], selection.grid[2:])
    assert only_ridge.gradient_settings(config) == adapt_settings(config, "full", 5, 1e-2)
