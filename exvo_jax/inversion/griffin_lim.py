"""Batched fast Griffin-Lim in JAX: phase for a linear magnitude spectrogram, the baseline's last inversion step.

The algorithm and its conventions are librosa 0.11's `griffinlim` with its defaults, so results compare
directly: a centred STFT with zero padding, periodic Hann window, inverse STFT by windowed overlap-add divided
by the window's sum of squares, random initial phase, and the momentum update of Perraudin et al.
(`angles = rebuilt - momentum / (1 + momentum) * previous rebuilt`, 0.99 by default) for 32 iterations.
Inside the loop the signal is `(T - 1) * hop` samples long (librosa's default length for T frames); the
returned waveform keeps the overlap-add tail up to `T * hop` samples, the length the front end reads as T
frames. The phase of each clip is drawn from its own key, so a batch equals its clips inverted one by one.
"""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.features.logmel import BASELINE, CLIPS_PER_STEP, MelGeometry, frame, hann_window

GRIFFIN_LIM_ITERATIONS = 32
MOMENTUM = 0.99


@functools.lru_cache(maxsize=None)
def _overlap_add_scale(geometry: MelGeometry, frames: int, length: int) -> np.ndarray:
    """Per-sample factor on the overlap-add buffer of `frames` frames: 1 / (sum of squared windows) on the `length`
    samples kept after the centre trim, 0 elsewhere: [(frames - 1) * hop + n_fft]."""
    per_frame = geometry.n_fft // geometry.hop
    squares = (hann_window(geometry.n_fft) ** 2).reshape(per_frame, geometry.hop)
    total = np.zeros((frames + per_frame - 1, geometry.hop), np.float32)
    for j in range(per_frame):
        total[j : j + frames] += squares[j]
    total = total.reshape(-1)
    kept = np.zeros(total.shape, bool)
    kept[geometry.n_fft // 2 : geometry.n_fft // 2 + length] = True
    kept &= total > np.finfo(np.float32).tiny
    return np.where(kept, 1.0 / np.where(kept, total, 1.0), 0.0).astype(np.float32)


def _spectra(buffer: jax.Array, geometry: MelGeometry, frames: int) -> jax.Array:
    """Windowed frames of a padded signal to spectra: [B, >= (frames - 1) * hop + n_fft] -> [B, T, F]."""
    return jnp.fft.rfft(frame(buffer, geometry, frames) * hann_window(geometry.n_fft), axis=-1)


def _overlap_add(spectra: jax.Array, geometry: MelGeometry) -> jax.Array:
    """Windowed inverse FFTs of [B, T, F] spectra, overlap-added: [B, (T - 1) * hop + n_fft], not normalised."""
    batch, frames, _ = spectra.shape
    per_frame = geometry.n_fft // geometry.hop
    pieces = jnp.fft.irfft(spectra, n=geometry.n_fft, axis=-1) * hann_window(geometry.n_fft)
    pieces = pieces.reshape(batch, frames, per_frame, geometry.hop)  # [B, T, r, hop]
    chunks = sum(jnp.pad(pieces[:, :, j], ((0, 0), (j, per_frame - 1 - j), (0, 0))) for j in range(per_frame))
    return chunks.reshape(batch, -1)


def stft(waves: jax.Array, geometry: MelGeometry = BASELINE) -> jax.Array:
    """Centred, zero-padded STFT: [B, L] -> [B, n_freqs, 1 + L // hop] complex."""
    half = geometry.n_fft // 2
    padded = jnp.pad(waves, ((0, 0), (half, half)))  # [B, L + n_fft]
    return _spectra(padded, geometry, 1 + waves.shape[1] // geometry.hop).transpose(0, 2, 1)


def istft(spectra: jax.Array, geometry: MelGeometry, length: int) -> jax.Array:
    """Inverse of the centred STFT by weighted overlap-add: [B, n_freqs, T] -> [B, length], length <= T * hop."""
    scale = _overlap_add_scale(geometry, spectra.shape[-1], length)
    buffer = _overlap_add(spectra.transpose(0, 2, 1), geometry) * scale  # [B, (T - 1) * hop + n_fft]
    return buffer[:, geometry.n_fft // 2 : geometry.n_fft // 2 + length]


def _initial_phase(keys: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Uniform random phasors, one key per clip (a single key is split across the batch): [B, F, T]."""
    if not jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):
        raise TypeError(f"expected typed PRNG keys (jax.random.key), got {keys.dtype} {keys.shape}")
    if keys.ndim == 0:
        keys = jax.random.split(keys, shape[0])
    turns = jax.vmap(lambda key: jax.random.uniform(key, shape[1:]))(keys)
    return jnp.exp(2j * jnp.pi * turns)


@functools.partial(jax.jit, static_argnames=("geometry", "iterations"))
def griffin_lim(
    magnitude: jax.Array,
    keys: jax.Array | None,
    geometry: MelGeometry = BASELINE,
    iterations: int = GRIFFIN_LIM_ITERATIONS,
    momentum: float = MOMENTUM,
) -> jax.Array:
    """Waveforms whose STFT magnitude approximates `magnitude`: [B, n_freqs, T] -> [B, T * hop].

    `keys` is one typed PRNG key per clip ([B], from `jax.random.split`) or a single `jax.random.key` (split
    across the batch); clip b starts from phase `2 pi jax.random.uniform(keys[b], [F, T])`, as librosa's
    `init='random'` draws its turns from numpy. None starts from zero phase (librosa's `init=None`).
    """
    magnitude = jnp.asarray(magnitude, jnp.float32)
    chex.assert_rank(magnitude, 3)
    chex.assert_axis_dimension(magnitude, 1, geometry.n_freqs)
    start = magnitude.astype(jnp.complex64)
    if keys is not None:
        start = start * _initial_phase(keys, magnitude.shape)
    return jax.lax.map(lambda clip: _iterate(clip[0][None], clip[1][None], geometry, iterations, momentum)[0],
                       (magnitude, start), batch_size=CLIPS_PER_STEP)  # a few clips at a time, in the cache


def _iterate(magnitude: jax.Array, start: jax.Array, geometry: MelGeometry, iterations: int, momentum) -> jax.Array:
    """The fast Griffin-Lim loop from the spectrogram `start`: [B, F, T] -> [B, T * hop].

    The loop keeps spectra as [B, T, F] and never cuts the signal out of the overlap-add buffer: the inverse
    STFT's trim to `(T - 1) * hop` samples and the STFT's zero padding are one mask in `_overlap_add_scale`.
    """
    frames = magnitude.shape[-1]
    magnitude = magnitude.transpose(0, 2, 1)  # [B, T, F]
    scale = _overlap_add_scale(geometry, frames, (frames - 1) * geometry.hop)
    tiny = np.finfo(np.float32).tiny
    decay = momentum / (1 + momentum)

    def step(carry, _):
        angles, previous = carry  # [B, T, F] complex each
        rebuilt = _spectra(_overlap_add(angles, geometry) * scale, geometry, frames)
        update = rebuilt - decay * previous
        return (magnitude * update / (jnp.abs(update) + tiny), rebuilt), None

    start = start.transpose(0, 2, 1)
    (angles, _), _ = jax.lax.scan(step, (start, jnp.zeros_like(start)), None, length=iterations)
    return istft(angles.transpose(0, 2, 1), geometry, frames * geometry.hop)


def spectral_convergence(magnitude: jax.Array, waves: jax.Array, geometry: MelGeometry = BASELINE) -> jax.Array:
    """||S - |STFT(wave)| ||_F / ||S||_F per clip over the T frames of S: ([B, F, T], [B, L]) -> [B]."""
    rebuilt = jnp.abs(stft(jnp.asarray(waves, jnp.float32), geometry))[..., : magnitude.shape[-1]]
    return jnp.linalg.norm(magnitude - rebuilt, axis=(1, 2)) / jnp.linalg.norm(magnitude, axis=(1, 2))


def librosa_griffin_lim(
    magnitude: np.ndarray,
    geometry: MelGeometry = BASELINE,
    *,
    iterations: int = GRIFFIN_LIM_ITERATIONS,
    random_state: int | np.random.RandomState | np.random.Generator = 0,
) -> np.ndarray:
    """The reference path: one clip through librosa 0.11's `griffinlim` with the settings above: [F, T] -> [T * hop].

    `random_state` draws the initial phase (librosa's argument). librosa returns `(T - 1) * hop` samples; the
    last hop is zero-filled to the length `griffin_lim` returns.
    """
    import librosa

    wave = librosa.griffinlim(
        np.asarray(magnitude, np.float32), n_iter=iterations, hop_length=geometry.hop, n_fft=geometry.n_fft,
        window="hann", center=True, pad_mode="constant", momentum=MOMENTUM, init="random", random_state=random_state,
    )
    return librosa.util.fix_length(wave, size=magnitude.shape[-1] * geometry.hop)
