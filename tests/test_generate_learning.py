"""Generate track end to end on a synthetic corpus: a tiny conditional GAN trained through the command line
learns every emotion (band-statistics Frechet distance), writes previews and metrics, and `generate sample`
writes a submission that `validate-submission` accepts."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
import soundfile as sf

from exvo_jax.cli import main
from exvo_jax.config_files import load_config
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.generate.band_stats import band_features, band_frechet_matrix
from exvo_jax.generate.data import load_pool, train_clips
from exvo_jax.generate.program import init_states, model_keys
from exvo_jax.generate.sampler import Sampler, load_sampler
from exvo_jax.generate.train import gan_from, hyper_from

CONFIG = "experiments/generate/conditional.py:tiny"
STEPS = 250
SAMPLES = 128  # generated clips per emotion for the distances


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """About 400 Train clips (40 per emotion): 50 speakers x 10 clips, 80 % of the speakers in Train."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("generate_corpus")
    write_corpus(root, speakers=50, clips_per_speaker=10, seed=3, split_fractions=(0.8, 0.1, 0.1), progress=False)
    return root


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """The tiny conditional GAN of CONFIG trained for STEPS iterations with the command line: its workdir."""
    workdir = tmp_path_factory.mktemp("generate_run")
    args = ["generate", "train", "--config", CONFIG, "--data-dir", str(corpus), "--workdir", str(workdir),
            "--set", f"steps={STEPS}", "--set", f"sample_every={STEPS // 2}"]
    assert main(args) == 0
    return workdir


def test_the_conditional_gan_learns_every_emotion(corpus, trained):
    """Band statistics (per-band mean and std over frames of each log-mel) of 128 EMA samples per emotion.

    Asserted: for every emotion the Frechet distance to its real Train clips is at most half the untrained
    generator's (measured 4-7 % over four seeds), and the label moves the samples: their per-emotion mean
    offsets are at least 0.4x as large as the real clips' (measured 0.67-0.77). Not asserted: that each
    emotion's samples are nearer its own real clips than the other emotions' (measured 0-4 of 10 emotions
    over four seeds), nor that the offsets point the real clips' way (4-8 of 10 at this length; 6-10 after
    450 iterations). The samples have about half the real spread, and that shared deficit, not the
    emotion, decides which real set is nearest; which emotions line up varies with the seed and with float
    rounding (the same seed lands elsewhere when the convolutions' backward pass is computed differently).
    Even a perfect generator stands barely above 7 of 10 at this size: 128 fresh clips per emotion from 200
    other speakers of the same synthetic distribution are nearest their own emotion's ~40 Train clips for 7.6
    of 10 on average (6-8 over 10 draws; 6.5 with 40 clips per emotion). In the weaker form (own distance below
    the mean of the row's other nine) such fresh clips score 10 of 10 in every draw, the GAN 5-6 over four
    seeds at this length, 4-8 after 500 iterations, 8 after 2000 (8-10 after 1000-2000 with a slower EMA or a
    32-d latent; minutes on two cores).
    """
    config = load_config(CONFIG)
    config.data_dir = str(corpus)
    pool = load_pool(config, train_clips(config), progress=False)
    dominant = pool.intensities.argmax(axis=1)
    real = {e: pool.mels[dominant == i] for i, e in enumerate(EMOTIONS)}
    trained_sampler = load_sampler(trained)
    fresh = init_states(gan_from(config), hyper_from(config), model_keys(config.seed, [len(EMOTIONS)]))
    untrained_sampler = Sampler(trained_sampler.gan, fresh.ema_params, trained_sampler.names, trained_sampler.geometry)
    key = jax.random.PRNGKey(7)
    generated = {e: trained_sampler.mels(e, SAMPLES, key) for e in EMOTIONS}
    untrained = {e: untrained_sampler.mels(e, SAMPLES, key) for e in EMOTIONS}
    ratio = np.diag(band_frechet_matrix(generated, real)) / np.diag(band_frechet_matrix(untrained, real))
    assert ratio.max() <= 0.5, dict(zip(EMOTIONS, ratio.round(3)))
    spread = [np.linalg.norm(offsets(sets), axis=1).mean() for sets in (generated, real)]
    assert spread[0] >= 0.4 * spread[1], spread


def offsets(sets: dict) -> np.ndarray:
    """[10, 2 n_mels]: each emotion's mean band features minus their average over emotions."""
    means = np.stack([band_features(sets[e]).mean(axis=0) for e in EMOTIONS])
    return means - means.mean(axis=0)


def test_training_writes_bounded_previews_metrics_and_the_ema_model(trained):
    grids = sorted(p.name for p in (trained / "samples").glob("*.png"))
    assert grids == [f"step_{STEPS // 2:07d}.png", f"step_{STEPS:07d}.png"]
    wavs = sorted((trained / "samples" / f"step_{STEPS:07d}").glob("*.wav"))
    assert [w.stem for w in wavs] == sorted(f"{e}_0" for e in EMOTIONS)
    lines = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    losses = [m for m in lines if "d_loss" in m]
    assert losses[-1]["step"] == STEPS and np.isfinite(losses[-1]["g_loss"])
    assert any(f"band_fd/{EMOTIONS[0]}" in m for m in lines)
    assert json.loads((trained / "results.json").read_text())["step"] == STEPS
    assert (trained / "model" / "model.json").exists()


def test_sample_writes_a_submission_that_validates(trained, tmp_path, capsys):
    out = tmp_path / "submission"
    assert main(["generate", "sample", "--workdir", str(trained), "--all", "--n", "1", "--out", str(out)]) == 0
    assert main(["validate-submission", str(out), "--clips-per-emotion", "1"]) == 0
    assert "valid generate submission" in capsys.readouterr().out
    info = sf.info(str(out / "Fear" / "Fear_0000.wav"))
    assert (info.samplerate, info.channels, info.frames) == (16_000, 1, 64 * 128)
    again = tmp_path / "fear_only"
    assert main(["generate", "sample", "--workdir", str(trained), "--emotion", "Fear", "--n", "1",
                 "--out", str(again)]) == 0
    assert [p.name for p in again.iterdir()] == ["Fear"]
    np.testing.assert_array_equal(sf.read(str(again / "Fear" / "Fear_0000.wav"))[0],
                                  sf.read(str(out / "Fear" / "Fear_0000.wav"))[0])


def test_sample_refuses_an_emotion_the_run_has_no_model_for(trained, tmp_path, capsys):
    assert main(["generate", "sample", "--workdir", str(trained), "--emotion", "Joy", "--n", "1",
                 "--out", str(tmp_path)]) == 2
    assert "unknown emotion 'Joy'" in capsys.readouterr().err
