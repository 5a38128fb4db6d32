"""The conditional GAN's emotion condition: per-clip training vectors, per-emotion sampling vectors, and a
soft-conditioned model sampled with the vectors recorded in its export rather than with one-hots."""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.config_files import load_config
from exvo_jax.tracks import generate as generate_track
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.run import import_model
from exvo_jax.tracks.generate.condition import clip_conditions, emotion_conditions, one_hots
from exvo_jax.tracks.generate.data import train_clips
from exvo_jax.tracks.generate.program import generate
from exvo_jax.tracks.generate.sampler import load_sampler, sampler_from
from tests.support.shared_gan import CONFIG


def padded(rows) -> np.ndarray:
    """`[N, 10]` intensities from rows of the first few emotions' values."""
    return np.array([list(row) + [0.0] * (len(EMOTIONS) - len(row)) for row in rows])


def test_clip_vectors_are_the_dominant_one_hot_or_the_clipped_intensities():
    intensities = padded([[0.2, 1.0, 0.5], [1.0, 1.0, 1.2], [0.1, 0.9, 0.9], [1.2, 0.0, -0.1]])
    hard, soft = clip_conditions(intensities, "hard"), clip_conditions(intensities, "soft")
    np.testing.assert_array_equal(hard, one_hots()[[1, 2, 1, 0]])  # the first of tied emotions
    np.testing.assert_allclose(soft[:, :3], [[0.2, 1.0, 0.5], [1.0, 1.0, 1.0], [0.1, 0.9, 0.9], [1.0, 0.0, 0.0]])
    assert hard.dtype == soft.dtype == np.float32
    with pytest.raises(ValueError, match="condition must be"):
        clip_conditions(intensities, "fuzzy")


def test_sampling_vectors_are_one_hots_or_the_mean_intensities_of_each_emotions_dominant_clips(caplog):
    intensities = padded([[1.0, 0.5], [0.8, 0.0, 0.4], [0.0, 0.0, 0.0, 0.6, 0.6]])  # dominant: 0, 0, 3 (tie)
    np.testing.assert_array_equal(emotion_conditions(intensities, "hard"), np.eye(len(EMOTIONS)))
    with caplog.at_level(logging.WARNING):
        soft = emotion_conditions(intensities, "soft")
    expected = one_hots()
    expected[0], expected[3] = intensities[:2].mean(axis=0), intensities[2]
    np.testing.assert_allclose(soft, expected, rtol=1e-6)
    warned = {e for e in EMOTIONS if any(f"dominated by {e}:" in r.getMessage() for r in caplog.records)}
    assert warned == set(EMOTIONS) - {EMOTIONS[0], EMOTIONS[3]}


@pytest.mark.xdist_group("generate")  # the shared GAN's worker: its compiled iteration is reused
def test_a_soft_model_is_sampled_with_its_recorded_vectors(generate_corpus, tmp_path):
    """The shared GAN's config and corpus (`tests/support/shared_gan.py`), soft-conditioned, for 2 iterations."""
    config = load_config(CONFIG)
    config.update({"data_dir": str(generate_corpus), "condition": "soft", "steps": 2, "log_every": 1,
                   "checkpoint_every": 2, "sample_every": 0})
    config = generate_track.settings(config)
    generate_track.train(config, tmp_path, progress=False)
    sampler = load_sampler(tmp_path)
    intensities = np.stack([c.emotions for c in train_clips(config)])
    dominant = intensities.argmax(axis=1)
    assert set(dominant) == set(range(len(EMOTIONS)))
    means = np.stack([intensities[dominant == e].mean(axis=0) for e in range(len(EMOTIONS))])
    np.testing.assert_allclose(sampler.conditions, means, rtol=1e-6)

    _, meta = import_model(tmp_path)
    del meta["emotion_conditions"]  # metadata exported before the vectors were recorded
    legacy = sampler_from(meta, sampler.ema_params)
    params, n, key = jax.tree.map(lambda x: x[0], sampler.ema_params), 3, jax.random.PRNGKey(3)
    for e, emotion in enumerate(EMOTIONS):
        z = jax.random.normal(jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, e), 0), 0),
                              (n, sampler.gan.generator.latent_size))
        mels = sampler.mels(emotion, n, key)
        np.testing.assert_array_equal(mels, generate(sampler.gan, params, z, jnp.asarray(sampler.conditions[[e] * n])))
        one_hot = np.asarray(generate(sampler.gan, params, z, jnp.asarray(one_hots()[[e] * n])))
        assert not np.allclose(mels, one_hot, atol=1e-3), emotion
        np.testing.assert_array_equal(legacy.mels(emotion, n, key), one_hot)
