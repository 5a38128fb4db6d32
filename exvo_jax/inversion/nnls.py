"""Mel power -> linear magnitude by non-negative least squares, solved with FISTA in one batched, jitted call.

A mel band sums many FFT bins, so a mel spectrogram has many non-negative linear spectra; the baseline picks
one by minimising `||M S - mel||^2` subject to `S >= 0` (librosa's `mel_to_stft`: L-BFGS-B, seconds to tens of
seconds per 4 s clip) and takes the square root. Every frame is an independent problem sharing the filterbank M, so
accelerated projected gradient (FISTA) over all frames of a clip at once needs only one [F, F] matrix
product per step. It starts from the clipped pseudo-inverse solution, as librosa does, and stops when a step
changes the solution by less than 1e-5 of its norm (at most 400 steps; a `while_loop`, so a batch still
compiles once). Measured on synthetic vocal bursts: that takes 20-60 steps for a clean 4 s mel at 128 bands
and reaches a relative mel fit error of 1e-5 to 2e-4, where librosa's L-BFGS-B mostly stops at 1e-4 to 1e-3
(on a few clips far lower); `tolerance=0` runs all 400 steps, to ~1e-7, at several times the cost.
"""

from __future__ import annotations

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.features.logmel import BASELINE, MelGeometry, log_mel_to_power, mel_filterbank

NNLS_STEPS = 400  # at most
NNLS_TOLERANCE = 1e-5  # relative change of a step at which a clip stops


@functools.lru_cache(maxsize=None)
def _solver_matrices(geometry: MelGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Filterbank M [M, F], its pseudo-inverse [F, M], the Gram matrix M^T M [F, F] and the step 1 / ||M||_2^2."""
    basis = mel_filterbank(geometry).astype(np.float64)
    gram = basis.T @ basis
    step = 1.0 / np.linalg.eigvalsh(gram)[-1]
    return basis.astype(np.float32), np.linalg.pinv(basis).astype(np.float32), gram.astype(np.float32), float(step)


def _momentum(steps: int) -> np.ndarray:
    """FISTA extrapolation weights (t_k - 1) / t_{k+1}, t_1 = 1, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2: [steps]."""
    t = np.ones(steps + 1)
    for k in range(steps):
        t[k + 1] = (1 + np.sqrt(1 + 4 * t[k] ** 2)) / 2
    return ((t[:-1] - 1) / t[1:]).astype(np.float32)


@functools.partial(jax.jit, static_argnames=("geometry", "steps"))
def nnls_power(
    mel_power: jax.Array,
    geometry: MelGeometry = BASELINE,
    steps: int = NNLS_STEPS,
    tolerance: float = NNLS_TOLERANCE,
) -> jax.Array:
    """Non-negative S minimising ||M S - mel_power||^2 per frame: [B, n_mels, T] -> [B, n_freqs, T].

    Each clip stops once a step changes it by less than `tolerance` relative to its norm, or after `steps`
    steps (0 tolerance: always `steps`). One clip at a time: its frames already make a [T, F] x [F, F] product
    big enough to use the cores, its iterates stay in the cache, and no clip waits for a slower neighbour
    (measured faster than 2 or 4 clips per step); each clip's result is the same alone or in a batch.
    """
    mel_power = jnp.asarray(mel_power, jnp.float32)
    chex.assert_rank(mel_power, 3)
    chex.assert_axis_dimension(mel_power, 1, geometry.n_mels)
    return jax.lax.map(lambda clip: _fista(clip, geometry, steps, tolerance), mel_power)


def _fista(mel_power: jax.Array, geometry: MelGeometry, steps: int, tolerance: jax.Array) -> jax.Array:
    """One clip, frames as rows: [n_mels, T] -> [n_freqs, T]."""
    basis, pinv, gram, step = _solver_matrices(geometry)
    weights = jnp.asarray(_momentum(steps))
    rows = mel_power.T  # [T, M]
    target = rows @ basis  # (M^T mel)^T: [T, F]
    start = jnp.maximum(rows @ pinv.T, 0.0)

    def unfinished(carry):
        k, _, _, change = carry
        return (k < steps) & (change > tolerance)

    def fista_step(carry):
        k, x, y, _ = carry  # x, y [T, F]: the iterate and the extrapolated point
        x_next = jnp.maximum(y - step * (y @ gram - target), 0.0)  # the Gram matrix is symmetric
        change = jnp.linalg.norm(x_next - y) / jnp.maximum(jnp.linalg.norm(x_next), np.finfo(np.float32).tiny)
        return k + 1, x_next, x_next + weights[k] * (x_next - x), change

    _, solution, _, _ = jax.lax.while_loop(unfinished, fista_step, (0, start, start, jnp.float32(np.inf)))
    return solution.T


def mel_to_magnitude(
    mels: jax.Array,
    geometry: MelGeometry = BASELINE,
    *,
    steps: int = NNLS_STEPS,
    tolerance: float = NNLS_TOLERANCE,
    is_power: bool = False,
) -> jax.Array:
    """Linear STFT magnitude [B, n_freqs, T] from log-mels as the front end makes them ([B, n_mels, T]).

    With `is_power`, `mels` is a mel power spectrogram instead. The magnitude is the square root of the NNLS
    power solution, as librosa's `mel_to_stft(power=2)`.
    """
    power = jnp.asarray(mels, jnp.float32) if is_power else log_mel_to_power(mels)
    return jnp.sqrt(nnls_power(power, geometry, steps, tolerance))


def mel_fit_error(power: jax.Array, mel_power: jax.Array, geometry: MelGeometry = BASELINE) -> jax.Array:
    """Relative residual ||M S - mel||_F / ||mel||_F of each clip: ([B, F, T], [B, M, T]) -> [B]."""
    residual = jnp.einsum("mf,bft->bmt", mel_filterbank(geometry), power) - mel_power
    return jnp.linalg.norm(residual, axis=(1, 2)) / jnp.linalg.norm(mel_power, axis=(1, 2))


def librosa_mel_to_magnitude(
    mel: np.ndarray, geometry: MelGeometry = BASELINE, *, is_power: bool = False
) -> np.ndarray:
    """The reference path: one clip through librosa 0.11's `mel_to_stft` (L-BFGS-B NNLS, then the square root).

    [n_mels, T] log-mel (or mel power with `is_power`) -> [n_freqs, T].
    """
    import librosa

    power = np.asarray(mel, np.float32) if is_power else np.asarray(log_mel_to_power(mel))
    return librosa.feature.inverse.mel_to_stft(
        power, sr=geometry.sample_rate, n_fft=geometry.n_fft, power=2.0, norm=1, fmin=0.0,
        fmax=geometry.sample_rate / 2,
    )
