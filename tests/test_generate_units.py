"""Generate track, pieces that need no training: configs, training sets, band statistics, previews, loss checks."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from exvo_jax.config_files import load_config
from exvo_jax.data.errors import DataError
from exvo_jax.tracks.generate.band_stats import band_features, band_frechet, band_frechet_matrix
from exvo_jax.tracks.generate.config import GenerateSettings, default_config, make_tiny, settings
from exvo_jax.tracks.generate.condition import clip_conditions
from exvo_jax.tracks.generate.data import MelPool, model_rows, real_examples
from exvo_jax.tracks.generate.previews import prune
from exvo_jax.tracks.generate.program import iterations_per_call, model_strategy
from exvo_jax.tracks.generate.training import record_losses

CONFIGS = ("msg_gan", "extra_adam", "conditional")


@pytest.mark.parametrize("name", CONFIGS)
def test_experiment_configs_and_their_tiny_variants_are_consistent(name):
    full, tiny = (load_config(f"experiments/generate/{name}.py{arg}") for arg in ("", ":tiny"))
    settings(full)
    settings(tiny)
    assert (full.mel.n_mels, full.mel.frames, full.model.depth, full.model.latent_size) == (128, 512, 7, 512)
    assert (tiny.mel.n_mels, tiny.mel.frames, tiny.model.depth, tiny.model.latent_size) == (16, 64, 4, 16)
    assert full.mode == ("conditional" if name == "conditional" else "per_emotion")


def test_bad_settings_are_refused():
    config = make_tiny(default_config())
    config.mel.frames = 128
    with pytest.raises(ValueError, match="differs from the output 16 x 64"):
        settings(config)
    config = make_tiny(default_config())
    config.checkpoint_every = config.log_every + 1
    with pytest.raises(ValueError, match="multiple of log_every"):
        settings(config)
    config = make_tiny(default_config())
    config.emotions = ("Awe", "Joy")
    with pytest.raises(ValueError, match="emotions must be"):
        settings(config)


def pool_of(intensities) -> MelPool:
    intensities = np.asarray(intensities, np.float32)
    n = len(intensities)
    mels = np.arange(n, dtype=np.float32)[:, None, None] * np.ones((1, 2, 3), np.float32)
    return MelPool(tuple(str(i) for i in range(n)), mels, intensities, clip_conditions(intensities, "hard"))


def test_per_emotion_sets_take_the_clips_at_exactly_one_and_conditional_takes_all():
    rows = np.zeros((4, 10), np.float32)
    rows[0, 0] = rows[1, 0] = rows[1, 2] = rows[2, 2] = 1.0
    rows[3, 0] = 0.99
    pool = pool_of(rows)
    config = GenerateSettings(emotions=("Awe", "Amusement"))
    sets = model_rows(config, pool)
    assert sets.names == ("Awe", "Amusement")
    np.testing.assert_array_equal(sets.counts, [2, 2])
    np.testing.assert_array_equal(sets.index, [[0, 1], [1, 2]])
    assert real_examples(pool, sets, "Amusement", 5)[:, 0, 0].tolist() == [1.0, 2.0]
    config = dataclasses.replace(config, emotions=("Awe", "Fear"))
    with pytest.raises(DataError, match="no Train clip has intensity 1.0 for Fear"):
        model_rows(config, pool)
    config = dataclasses.replace(config, mode="conditional")
    sets = model_rows(config, pool)
    assert sets.names == ("conditional",) and sets.counts.tolist() == [4]
    assert real_examples(pool, sets, "Awe", 5)[:, 0, 0].tolist() == [0.0, 1.0, 3.0]  # dominant emotion


def test_band_statistics_and_their_frechet_distance():
    rng = np.random.default_rng(0)
    mels = rng.normal(size=(50, 4, 16))
    features = band_features(mels)
    assert features.shape == (50, 8)
    np.testing.assert_allclose(features[:, :4], mels.mean(axis=2))
    np.testing.assert_allclose(features[:, 4:], mels.std(axis=2))
    assert band_frechet(mels, mels) < 1e-6
    shifted = mels + 1.0  # every band mean moves by 1: distance |mu1 - mu2|^2 = 4
    assert band_frechet(mels, shifted) == pytest.approx(4.0, rel=1e-6)
    matrix = band_frechet_matrix({"a": mels, "b": shifted}, {"a": mels, "b": shifted})
    assert matrix.argmin(axis=1).tolist() == [0, 1]


def test_prune_keeps_the_newest_sample_points(tmp_path):
    for step in (50, 100, 150):
        (tmp_path / f"step_{step:07d}.png").write_bytes(b"png")
        (tmp_path / f"step_{step:07d}").mkdir()
        (tmp_path / f"step_{step:07d}" / "Awe_0.wav").write_bytes(b"wav")
    (tmp_path / "notes.txt").write_text("kept")
    prune(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "step_0000100", "step_0000100.png", "step_0000150", "step_0000150.png"]


def test_cpu_runs_one_iteration_per_call_and_one_model_per_device_is_not_looped():
    assert iterations_per_call(100, "cpu") == 1
    assert iterations_per_call(100, "gpu") == 100
    assert model_strategy("auto", 1) == "vmap"
    assert model_strategy("map", 3) == "map"


class FakeRun:
    def __init__(self):
        self.metrics, self.events = [], []

    def log_metrics(self, step, **scalars):
        self.metrics.append((step, scalars))

    def log_event(self, name, **fields):
        self.events.append((name, fields))


def test_a_collapsed_discriminator_is_reported_and_a_non_finite_loss_stops_the_run(caplog):
    run = FakeRun()
    losses = {"g_loss": np.array([[2.0, 3.0], [1.0, 1.0]]), "d_loss": np.array([[0.0, 1e-5], [1.5, 1.0]])}
    with caplog.at_level(logging.WARNING):
        means = record_losses(run, 10, ("Awe", "Fear"), losses, threshold=1e-3)
    assert means["d_loss"] == {"Awe": pytest.approx(5e-6), "Fear": 1.25}
    step, scalars = run.metrics[0]
    assert step == 10 and scalars["d_collapsed"] == 1 and scalars["g_loss/Awe"] == 2.5
    assert run.events == [("d_collapse", {"step": 10, "models": ["Awe"]})]
    assert "collapsed" in caplog.text and "Awe" in caplog.text
    losses["g_loss"][1, 0] = np.nan
    with pytest.raises(FloatingPointError, match="g_loss by iteration 12 for Fear"):
        record_losses(run, 12, ("Awe", "Fear"), losses, threshold=1e-3)

