"""Log-mel front end: equal to librosa's baseline settings on synthetic and real clips, padding, cutting, batching."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import librosa
import numpy as np
import pytest

from exvo_jax.data.audio import load_audio
from exvo_jax.features.logmel import (
    BASELINE,
    LOG_FLOOR,
    NANO,
    PRESETS,
    TINY,
    WINNER,
    MelGeometry,
    librosa_log_mel,
    log_mel,
    log_mel_to_power,
    mel_filterbank,
)
from exvo_jax.synth.corpus import plan_corpus, synthesise

TOLERANCE = 1e-3  # max abs difference of log-mel values against librosa


@pytest.fixture(scope="module")
def synthetic_clips() -> list[np.ndarray]:
    """Six synthetic vocal bursts of 0.5-5 s from the synthetic corpus generator."""
    return [synthesise(clip, seed=0) for clip in plan_corpus(speakers=3, clips_per_speaker=3, seed=0)[:6]]


def _batch(clips: list[np.ndarray], width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Clips stacked into [B, width] (zero-filled) with their lengths [B]."""
    lengths = np.array([len(c) for c in clips])
    waves = np.zeros((len(clips), width or lengths.max()), np.float32)
    for row, clip in zip(waves, clips):
        row[: len(clip)] = clip[: len(row)]
    return waves, np.minimum(lengths, waves.shape[1])


def test_presets_name_the_shapes_in_use():
    assert (BASELINE.n_mels, BASELINE.frames, BASELINE.hop, BASELINE.seconds) == (128, 512, 128, 4.096)
    assert (WINNER.n_mels, WINNER.frames, WINNER.hop, WINNER.seconds) == (128, 128, 256, 2.048)
    assert (TINY.n_mels, TINY.frames) == (32, 128) and (NANO.n_mels, NANO.frames) == (16, 64)
    with pytest.raises(ValueError, match="multiple of hop"):
        MelGeometry(n_mels=16, hop=100, frames=8)
    with pytest.raises(ValueError, match="positive"):
        MelGeometry(n_mels=0, hop=128, frames=8)


def test_wrong_shapes_are_refused():
    with pytest.raises(AssertionError, match="rank"):
        log_mel(np.zeros(4096, np.float32), NANO)  # one clip needs a batch axis
    with pytest.raises(AssertionError):
        log_mel(np.zeros((2, 4096), np.float32), NANO, lengths=np.array([4096]))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_filterbank_is_librosas_slaney_with_unit_l1_rows(name):
    geometry = PRESETS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa's empty-filter check
        expected = librosa.filters.mel(sr=16_000, n_fft=512, n_mels=geometry.n_mels, fmin=0.0, fmax=8000.0, norm=1)
    np.testing.assert_allclose(mel_filterbank(geometry), expected, atol=1e-6)
    np.testing.assert_allclose(mel_filterbank(geometry).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("geometry", [BASELINE, WINNER, NANO], ids=["baseline", "winner", "nano"])
def test_equals_librosa_on_synthetic_clips(synthetic_clips, geometry):
    waves, lengths = _batch(synthetic_clips)
    out = np.asarray(log_mel(waves, geometry, lengths))
    assert out.shape == (len(synthetic_clips), geometry.n_mels, geometry.frames)
    for clip, got in zip(synthetic_clips, out):
        assert np.abs(got - librosa_log_mel(clip, geometry)).max() <= TOLERANCE


@pytest.mark.real_data
def test_equals_librosa_on_real_clips(nonverbal_dir):
    paths = [sorted(folder.glob("*.wav"))[0] for folder in sorted(p for p in nonverbal_dir.iterdir() if p.is_dir())]
    clips = [load_audio(path, allow_silence=True) for path in paths[:8]]
    waves, lengths = _batch(clips)
    out = np.asarray(log_mel(waves, BASELINE, lengths))
    for clip, got in zip(clips, out):
        assert np.abs(got - librosa_log_mel(clip, BASELINE)).max() <= TOLERANCE


def test_short_clips_are_padded_with_the_floor_and_long_ones_cut(synthetic_clips):
    clip = synthetic_clips[0][: 20 * NANO.hop + 37]  # 21 frames of content
    out = np.asarray(log_mel(clip[None], NANO))[0]
    assert np.all(out[:, 21:] == np.float32(LOG_FLOOR)) and np.all(out[:, :21] > LOG_FLOOR)
    long_clip = np.tile(synthetic_clips[0], 3)
    assert len(long_clip) > NANO.num_samples
    np.testing.assert_array_equal(np.asarray(log_mel(long_clip[None], NANO))[0].shape, (NANO.n_mels, NANO.frames))
    assert np.abs(np.asarray(log_mel(long_clip[None], NANO))[0] - librosa_log_mel(long_clip, NANO)).max() <= TOLERANCE
    np.testing.assert_array_equal(np.asarray(log_mel_to_power(out))[:, 21:], 0.0)


def test_batch_equals_clips_one_by_one_and_ignores_samples_past_each_length(synthetic_clips):
    waves, lengths = _batch(synthetic_clips, width=TINY.num_samples)
    noisy = waves + (np.arange(waves.shape[1]) >= lengths[:, None]) * np.float32(0.5)  # garbage past each length
    batched = np.asarray(log_mel(noisy, TINY, jnp.asarray(lengths)))
    for row in range(len(waves)):
        alone = np.asarray(log_mel(waves[row : row + 1], TINY, jnp.asarray(lengths[row : row + 1])))[0]
        np.testing.assert_allclose(batched[row], alone, atol=1e-5)
