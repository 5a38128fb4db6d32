"""Mel inversion: NNLS fit against librosa's, Griffin-Lim against librosa's, batching, level normalisation."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

from exvo_jax.features.logmel import CLIPS_PER_STEP, LOG_FLOOR, MelGeometry, log_mel, log_mel_to_power
from exvo_jax.inversion import (
    griffin_lim,
    istft,
    librosa_griffin_lim,
    librosa_mel_to_audio,
    librosa_mel_to_magnitude,
    mel_fit_error,
    mel_to_audio,
    mel_to_magnitude,
    normalise_level,
    spectral_convergence,
    stft,
)
from exvo_jax.synth.corpus import plan_corpus, synthesise

SHORT = MelGeometry(n_mels=32, hop=128, frames=64)  # 0.512 s


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    """Five synthetic vocal bursts, each looped or cut to SHORT's 0.512 s: [5, 8192] (one full step of
    `CLIPS_PER_STEP` clips and a remainder)."""
    planned = plan_corpus(speakers=3, clips_per_speaker=3, seed=0)[:5]
    return np.stack([np.resize(synthesise(clip, seed=0), SHORT.num_samples) for clip in planned])


@pytest.fixture(scope="module")
def magnitude(clips) -> np.ndarray:
    """|STFT| of the clips as librosa computes it (centred, zero padding), 64 frames: [5, 257, 64]."""
    return np.abs(librosa.stft(clips[:, : (SHORT.frames - 1) * SHORT.hop], n_fft=SHORT.n_fft, hop_length=SHORT.hop))


@pytest.mark.parametrize("geometry", [MelGeometry(32, 128, 32), MelGeometry(128, 128, 16)], ids=["32x32", "128x16"])
def test_nnls_fits_the_mel_no_worse_than_librosa(clips, geometry):
    log_mels = log_mel(clips[:2, : geometry.num_samples], geometry)  # [2, M, T]
    mel_power = np.asarray(log_mel_to_power(log_mels))
    power = jnp.square(mel_to_magnitude(log_mels, geometry))  # [2, F, T]
    ours = np.asarray(mel_fit_error(power, mel_power, geometry))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa's empty-filter check
        theirs_power = np.stack([librosa_mel_to_magnitude(m, geometry, is_power=True) ** 2 for m in mel_power])
    theirs = np.asarray(mel_fit_error(theirs_power, mel_power, geometry))
    assert np.all(ours <= theirs), (ours, theirs)
    assert np.all(np.asarray(power) >= 0.0)
    np.testing.assert_allclose(mel_to_magnitude(mel_power, geometry, is_power=True), jnp.sqrt(power), rtol=1e-6)


def test_stft_and_istft_follow_librosa(clips, magnitude):
    waves = clips[:, : (SHORT.frames - 1) * SHORT.hop]
    spectra = librosa.stft(waves, n_fft=SHORT.n_fft, hop_length=SHORT.hop)
    np.testing.assert_allclose(np.asarray(stft(waves, SHORT)), spectra, atol=1e-4)
    expected = librosa.istft(spectra, n_fft=SHORT.n_fft, hop_length=SHORT.hop, length=SHORT.num_samples)
    np.testing.assert_allclose(np.asarray(istft(jnp.asarray(spectra), SHORT, SHORT.num_samples)), expected, atol=1e-5)


def test_griffin_lim_from_zero_phase_matches_librosa(magnitude):
    ours = np.asarray(griffin_lim(magnitude, None, SHORT))
    theirs = np.stack([librosa.griffinlim(m, n_iter=32, hop_length=SHORT.hop, n_fft=SHORT.n_fft, init=None)
                       for m in magnitude])
    np.testing.assert_allclose(ours[:, : theirs.shape[1]], theirs, atol=2e-3 * np.abs(theirs).max())
    sc_ours = spectral_convergence(magnitude, ours, SHORT)
    sc_theirs = spectral_convergence(magnitude, librosa.util.fix_length(theirs, size=SHORT.num_samples), SHORT)
    np.testing.assert_allclose(sc_ours, sc_theirs, rtol=0.02)  # float32 rounding, amplified over 32 iterations


class _GivenDraws(np.random.RandomState):
    """Hands librosa's `griffinlim` the phase turns JAX drew, so both start from the same phases."""

    def __init__(self, turns: np.ndarray):
        super().__init__(0)
        self.turns = turns

    def random(self, size=None):
        assert size == self.turns.shape
        return self.turns


def test_griffin_lim_converges_as_well_as_librosa_from_the_same_random_phases(magnitude):
    """Paired starts: one run's spectral convergence varies by ~15% with the random phase, so a few unpaired
    seeds cannot resolve a 5% margin (over 200 independent starts per clip the means were within 1.5%)."""
    keys = jax.random.split(jax.random.key(0), len(magnitude))
    ours = np.asarray(spectral_convergence(magnitude, griffin_lim(magnitude, keys, SHORT), SHORT))
    turns = np.asarray(jax.vmap(lambda key: jax.random.uniform(key, magnitude.shape[1:]))(keys))  # as documented
    theirs = np.array([
        float(spectral_convergence(m[None], librosa_griffin_lim(m, SHORT, random_state=_GivenDraws(t))[None], SHORT)[0])
        for m, t in zip(magnitude, turns)
    ])
    assert np.all(ours <= 1.05 * theirs), (ours, theirs)
    np.testing.assert_allclose(ours, theirs, rtol=0.02)


@pytest.fixture(scope="module")
def keys(clips) -> jax.Array:
    return jax.random.split(jax.random.key(7), len(clips))


def test_batch_equals_clips_one_by_one(clips, keys):
    assert len(clips) > CLIPS_PER_STEP  # a batch spans more than one step of the clip loop
    log_mels = log_mel(clips, SHORT)
    batched = np.asarray(mel_to_audio(log_mels, keys, SHORT))
    assert batched.shape == (len(clips), SHORT.num_samples)
    for row in range(len(clips)):
        alone = np.asarray(mel_to_audio(log_mels[row : row + 1], keys[row : row + 1], SHORT))[0]
        np.testing.assert_allclose(batched[row], alone, atol=1e-5 * np.abs(alone).max())


def test_level_normalisation_is_one_gain_per_sample(clips, keys):
    log_mels = log_mel(clips, SHORT).at[:, :, -5:].set(LOG_FLOOR)  # a padded tail
    normalised = normalise_level(log_mels, target=1.0)
    np.testing.assert_allclose(normalised.max(axis=(1, 2)), 1.0, atol=1e-5)
    np.testing.assert_allclose(normalised[:, :, -5:], LOG_FLOOR, atol=1e-6)  # silence stays silent
    loud = np.minimum(log_mels, normalised) > LOG_FLOOR + 4  # well above the 1e-6 floor before and after
    shift = np.asarray(1.0 - log_mels.max(axis=(1, 2)))  # [B]
    np.testing.assert_allclose(np.asarray(normalised)[loud], np.asarray(log_mels + shift[:, None, None])[loud],
                               atol=1e-3)
    assert np.allclose(np.quantile(normalise_level(log_mels, -2.0, quantile=0.9), 0.9, axis=(1, 2)), -2.0, atol=1e-4)
    # NNLS has many equally good solutions, so rounding moves the waveform; its level follows the gain.
    plain = np.asarray(mel_to_audio(log_mels, keys, SHORT))
    levelled = np.asarray(mel_to_audio(log_mels, keys, SHORT, level=1.0))
    np.testing.assert_allclose(np.linalg.norm(levelled, axis=1) / np.linalg.norm(plain, axis=1), np.exp(shift),
                               rtol=1e-2)


def test_librosa_reference_path_has_the_same_length(clips):
    geometry = MelGeometry(n_mels=16, hop=128, frames=16)
    log_mels = log_mel(clips[:1, : geometry.num_samples], geometry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = librosa_mel_to_audio(np.asarray(log_mels[0]), geometry, seed=0)
    assert reference.shape == (geometry.num_samples,) and np.all(reference[(geometry.frames - 1) * geometry.hop :] == 0)


def test_raw_uint32_keys_are_refused(magnitude):
    with pytest.raises(TypeError, match="typed PRNG keys"):
        griffin_lim(magnitude, jax.random.PRNGKey(0), SHORT)
