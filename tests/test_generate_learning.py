"""Generate track end to end on a synthetic corpus: the tests' shared tiny conditional GAN, trained through the
command line (conftest `trained_gan`), learns every emotion (band-statistics Frechet distance), writes
previews and metrics, and `generate sample` writes a submission that `validate-submission` accepts."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
import soundfile as sf

from exvo_jax.cli import main
from exvo_jax.config_files import load_config
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks import generate
from exvo_jax.tracks.generate.band_stats import band_features, band_frechet_matrix
from exvo_jax.tracks.generate.data import load_pool, train_clips
from exvo_jax.tracks.generate.program import init_states, model_keys
from exvo_jax.tracks.generate.sampler import Sampler, load_sampler
from exvo_jax.tracks.generate.training import gan_from, hyper_from
from tests.support.shared_gan import CONFIG, PREVIEW_EVERY, STEPS

SAMPLES = 128  # generated clips per emotion for the distances

# One worker trains the shared GAN (conftest `trained_gan`).
pytestmark = [pytest.mark.xdist_group("generate"), pytest.mark.slow]


def test_the_conditional_gan_learns_every_emotion(generate_corpus, trained_gan):
    """Band statistics (per-band mean and std over frames of each log-mel) of 128 EMA samples per emotion.

    Asserted, with what the shared run's 2000 iterations measured with seed 0 (and seeds 1 and 2):
    - for every emotion the Frechet distance to its real Train clips is at most half the untrained
      generator's: at most 0.05 of it (0.16, 0.34);
    - for at least 7 of 10 emotions that distance is below the mean of the distances to the other nine
      emotions' real clips, the form of the Train-vs-Val check in test_generate_evaluation: 9 of 10 (9, 8);
      after 250 iterations 5-6 over four seeds, after 500 4-8 (on a 50-speaker corpus);
    - the label moves the samples: their per-emotion mean offsets are at least 0.4x as large as the real
      clips': 1.3x (1.7x, 1.6x).
    Not asserted: that each emotion's samples are nearer its own real clips than every other emotion's: 3 of
    10 (2, 5). In that form even a perfect generator stands barely above 7 of 10 at this size: 128 fresh clips
    per emotion from 160 other speakers of the same synthetic distribution are nearest their own emotion's ~40
    Train clips of a 50-speaker corpus for 6-8 of 10 over ten draws (10 of 10 in the row-mean form).
    """
    config = load_config(CONFIG)
    config.data_dir = str(generate_corpus)
    config = generate.settings(config)
    pool = load_pool(config, train_clips(config), progress=False)
    dominant = pool.intensities.argmax(axis=1)
    real = {e: pool.mels[dominant == i] for i, e in enumerate(EMOTIONS)}
    trained_sampler = load_sampler(trained_gan)
    fresh = init_states(gan_from(config), hyper_from(config), model_keys(config.seed, [len(EMOTIONS)]))
    untrained_sampler = Sampler(trained_sampler.gan, fresh.ema_params, trained_sampler.names, trained_sampler.geometry)
    key = jax.random.PRNGKey(7)
    generated = {e: trained_sampler.mels(e, SAMPLES, key) for e in EMOTIONS}
    untrained = {e: untrained_sampler.mels(e, SAMPLES, key) for e in EMOTIONS}
    distances = band_frechet_matrix(generated, real)  # [generated emotion, real emotion]
    ratio = np.diag(distances) / np.diag(band_frechet_matrix(untrained, real))
    assert ratio.max() <= 0.5, dict(zip(EMOTIONS, ratio.round(3)))
    others = (distances.sum(axis=1) - np.diag(distances)) / (len(EMOTIONS) - 1)
    assert (np.diag(distances) < others).sum() >= 7, distances.round(2)
    spread = [np.linalg.norm(offsets(sets), axis=1).mean() for sets in (generated, real)]
    assert spread[0] >= 0.4 * spread[1], spread


def offsets(sets: dict) -> np.ndarray:
    """[10, 2 n_mels]: each emotion's mean band features minus their average over emotions."""
    means = np.stack([band_features(sets[e]).mean(axis=0) for e in EMOTIONS])
    return means - means.mean(axis=0)


def test_training_writes_bounded_previews_metrics_and_the_ema_model(trained_gan):
    grids = sorted(p.name for p in (trained_gan / "samples").glob("*.png"))
    assert grids == [f"step_{PREVIEW_EVERY:07d}.png", f"step_{STEPS:07d}.png"]
    wavs = sorted((trained_gan / "samples" / f"step_{STEPS:07d}").glob("*.wav"))
    assert [w.stem for w in wavs] == sorted(f"{e}_0" for e in EMOTIONS)
    lines = [json.loads(line) for line in (trained_gan / "metrics.jsonl").read_text().splitlines()]
    losses = [m for m in lines if "d_loss" in m]
    assert losses[-1]["step"] == STEPS and np.isfinite(losses[-1]["g_loss"])
    assert any(f"band_fd/{EMOTIONS[0]}" in m for m in lines)
    assert json.loads((trained_gan / "results.json").read_text())["step"] == STEPS
    assert (trained_gan / "model" / "model.json").exists()


def test_sample_writes_a_submission_that_validates(trained_gan, tmp_path, capsys):
    out = tmp_path / "submission"
    assert main(["generate", "sample", "--workdir", str(trained_gan), "--all", "--n", "1", "--out", str(out)]) == 0
    assert main(["validate-submission", str(out), "--clips-per-emotion", "1"]) == 0
    assert "valid generate submission" in capsys.readouterr().out
    info = sf.info(str(out / "Fear" / "Fear_0000.wav"))
    assert (info.samplerate, info.channels, info.frames) == (16_000, 1, 64 * 128)
    again = tmp_path / "fear_only"
    assert main(["generate", "sample", "--workdir", str(trained_gan), "--emotion", "Fear", "--n", "1",
                 "--out", str(again)]) == 0
    assert [p.name for p in again.iterdir()] == ["Fear"]
    np.testing.assert_array_equal(sf.read(str(again / "Fear" / "Fear_0000.wav"))[0],
                                  sf.read(str(out / "Fear" / "Fear_0000.wav"))[0])


def test_sample_refuses_an_emotion_the_run_has_no_model_for(trained_gan, tmp_path, capsys):
    assert main(["generate", "sample", "--workdir", str(trained_gan), "--emotion", "Joy", "--n", "1",
                 "--out", str(tmp_path)]) == 2
    assert "unknown emotion 'Joy'" in capsys.readouterr().err
