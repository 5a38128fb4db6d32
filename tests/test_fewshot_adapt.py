"""Adaptation engine: strategies agree, modes adapt what they should, bounded compilation, sharding."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from flax import traverse_util

from exvo_jax.models.cnn_lstm import SequenceHead
from exvo_jax.tracks.fewshot.adapt import (
    MODES,
    AdaptSettings,
    SpeakerTask,
    adapt_personal,
    chunk_program,
    personalise,
    predict_last,
    resolve_strategy,
)
from exvo_jax.tracks.fewshot.head_params import prepare_head_params, split_params
from tests.support.child_processes import child_env
from tests.support.speaker_tasks import BUCKETS, FEATURES, HIDDEN, OUTPUTS, make_tasks


@pytest.fixture(scope="module")
def head_params():
    init = jax.jit(SequenceHead(HIDDEN, OUTPUTS).init)
    return init(jax.random.key(0), np.zeros((1, 2, FEATURES), np.float32))["params"]


@pytest.mark.parametrize("mode", MODES)
def test_vmap_and_map_strategies_agree(head_params, mode):
    tasks = make_tasks(7)
    results = {}
    for strategy in ("vmap", "map"):
        settings = AdaptSettings(mode=mode, steps=4, learning_rate=0.05, strategy=strategy, chunk_size=8)
        results[strategy] = personalise(head_params, tasks, settings, hidden=HIDDEN, outputs=OUTPUTS, buckets=BUCKETS)
    for task, a, b in zip(tasks, results["vmap"], results["map"]):
        assert a.shape == (len(task.query), OUTPUTS)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # (that adaptation moves predictions at all is checked per mode below and against PyTorch)


def test_no_adaptation_equals_the_trained_head(head_params):
    tasks = make_tasks(3, seed=1)
    ours = personalise(head_params, tasks, AdaptSettings(steps=0), hidden=HIDDEN, outputs=OUTPUTS, buckets=BUCKETS)
    apply = jax.jit(SequenceHead(HIDDEN, OUTPUTS).apply)
    for task, predictions in zip(tasks, ours):
        for clip, row in zip(task.query, predictions):
            padded = np.zeros((1, 10, FEATURES), np.float32)
            padded[0, : len(clip)] = clip
            direct = apply({"params": head_params}, padded)[0, len(clip) - 1]
            np.testing.assert_allclose(row, direct, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, personal_leaves", [("full", 10), ("bias_head", 6), ("lora", 8)])
def test_modes_adapt_only_their_parameters(head_params, mode, personal_leaves):
    settings = AdaptSettings(mode=mode, steps=3, learning_rate=0.05, lora_rank=2)
    params = prepare_head_params(head_params, settings.mode, settings.lora_rank, settings.seed)
    shared, personal = split_params(params, mode)
    assert len(personal) == personal_leaves
    head = SequenceHead(HIDDEN, OUTPUTS, 2 if mode == "lora" else 0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, FEATURES)).astype(np.float32)
    targets = rng.uniform(size=(2, OUTPUTS)).astype(np.float32)
    lengths = np.array([6, 4])

    @jax.jit
    def run(shared, personal):
        adapted = adapt_personal(head, shared, personal, x, lengths, targets, steps=3, learning_rate=0.05,
                                 weight_decay=0.01)
        before = predict_last(head, shared, personal, x, lengths)
        return adapted, before, predict_last(head, shared, adapted, x, lengths)

    adapted, before, after = run(shared, personal)
    assert set(adapted) == set(personal)
    assert all(np.abs(adapted[k] - personal[k]).max() > 0 for k in personal)
    assert np.mean((after - targets) ** 2) < np.mean((before - targets) ** 2)  # the support loss fell
    if mode == "lora":  # trained kernels untouched, the update is low rank
        flat = traverse_util.flatten_dict(params)
        assert ("lstm_0", "w_ih") in shared and np.array_equal(shared[("lstm_0", "w_ih")], flat[("lstm_0", "w_ih")])


def test_compiles_once_per_shape(head_params):
    settings = AdaptSettings(mode="bias_head", steps=2, strategy="vmap", chunk_size=4)
    head = SequenceHead(HIDDEN, OUTPUTS)
    program = chunk_program(head, "vmap", 2, settings.weight_decay)
    tasks = make_tasks(8, seed=3)
    personalise(head_params, tasks, settings, hidden=HIDDEN, outputs=OUTPUTS, buckets=(10,))
    compiled = program._cache_size()
    assert 1 <= compiled <= 3  # one per distinct padded query count
    personalise(head_params, make_tasks(8, seed=4), settings, hidden=HIDDEN, outputs=OUTPUTS, buckets=(10,))
    personalise(head_params, tasks, settings.__class__(**{**settings.__dict__, "learning_rate": 0.5}),
                hidden=HIDDEN, outputs=OUTPUTS, buckets=(10,))
    assert program._cache_size() <= 3  # new speakers and a new learning rate reuse the programs


def test_strategy_choice_and_settings_validation():
    assert resolve_strategy("auto", "full", "cpu") == "map"
    assert resolve_strategy("auto", "bias_head", "cpu") == "vmap"
    assert resolve_strategy("auto", "full", "gpu") == "vmap"
    assert resolve_strategy("map", "bias_head", "gpu") == "map"
    with pytest.raises(ValueError, match="unknown adaptation mode 'prompt'"):
        AdaptSettings(mode="prompt")
    with pytest.raises(ValueError, match="unknown strategy"):
        AdaptSettings(strategy="pmap")
    with pytest.raises(ValueError, match="lora_rank"):
        AdaptSettings(mode="lora", lora_rank=0)


SHARDED = textwrap.dedent("""
    import jax, numpy as np
    from exvo_jax.models.cnn_lstm import SequenceHead
    from exvo_jax.tracks.fewshot.adapt import AdaptSettings, SpeakerTask, personalise
    assert jax.device_count() == 2
    rng = np.random.default_rng(0)
    clip = lambda: rng.normal(size=(4, 8)).astype(np.float32)
    tasks = [SpeakerTask(str(i), (clip(), clip()), rng.uniform(size=(2, 3)).astype(np.float32), (clip(), clip()))
             for i in range(5)]
    params = jax.jit(SequenceHead(6, 3).init)(jax.random.key(0), np.zeros((1, 2, 8), np.float32))["params"]
    out = personalise(params, tasks, AdaptSettings(mode="bias_head", steps=3, learning_rate=0.1, strategy="vmap"),
                      hidden=6, outputs=3, buckets=(4,))
    np.save(__import__("sys").argv[1], np.stack(out))
""")


@pytest.mark.slow
def test_sharded_over_two_devices_matches_one(tmp_path, head_params):
    script = tmp_path / "sharded.py"
    script.write_text(SHARDED)
    subprocess.run([sys.executable, str(script), str(tmp_path / "two.npy")], check=True, env=child_env(2),
                   timeout=300)
    rng = np.random.default_rng(0)

    def clip():
        return rng.normal(size=(4, 8)).astype(np.float32)

    tasks = [SpeakerTask(str(i), (clip(), clip()), rng.uniform(size=(2, 3)).astype(np.float32), (clip(), clip()))
             for i in range(5)]
    params = jax.jit(SequenceHead(6, 3).init)(jax.random.key(0), np.zeros((1, 2, 8), np.float32))["params"]
    one = personalise(params, tasks, AdaptSettings(mode="bias_head", steps=3, learning_rate=0.1, strategy="vmap"),
                      hidden=6, outputs=3, buckets=(4,))
    np.testing.assert_allclose(np.load(tmp_path / "two.npy"), np.stack(one), rtol=1e-5, atol=1e-6)
