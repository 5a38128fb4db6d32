"""Log-mel -> waveform for a whole batch, with optional level normalisation, and librosa's reference path.

A generator's log-mels go back to audio as in the baseline: undo the log, NNLS to a linear magnitude, then
Griffin-Lim. The best ExVo generate entry also normalised each sample's level before Griffin-Lim;
`normalise_level` does that as one gain per sample, so the spectral shape is untouched and silent bins stay
silent. `librosa_mel_to_audio` is the reference path (librosa's `mel_to_audio` with the same settings).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.features.logmel import BASELINE, MEL_EPS, MelGeometry, log_mel_to_power
from exvo_jax.inversion.griffin_lim import GRIFFIN_LIM_ITERATIONS, MOMENTUM, griffin_lim, librosa_griffin_lim
from exvo_jax.inversion.nnls import NNLS_STEPS, NNLS_TOLERANCE, librosa_mel_to_magnitude, mel_to_magnitude


def normalise_level(log_mels: jax.Array, target: float, quantile: float = 1.0) -> jax.Array:
    """Rescales each sample so that its `quantile` log-mel value (1.0: the maximum) equals `target`: [B, M, T].

    The gain is applied to the mel power, `log((exp(2 x) - 1e-6) * g + 1e-6) / 2`, so every bin well above the
    1e-6 floor moves by the same amount in log-mel units and silent or padding bins stay at the floor; on the
    waveform it is one gain per sample, `exp(target - level)`. Use a quantile below 1 (say 0.99) to keep a
    single loud bin from setting the level.
    """
    log_mels = jnp.asarray(log_mels, jnp.float32)
    level = jnp.quantile(log_mels, quantile, axis=(1, 2), keepdims=True)  # [B, 1, 1]
    return jnp.log(log_mel_to_power(log_mels) * jnp.exp(2 * (target - level)) + MEL_EPS) / 2


def mel_to_audio(
    mels: jax.Array,
    keys: jax.Array | None,
    geometry: MelGeometry = BASELINE,
    *,
    iterations: int = GRIFFIN_LIM_ITERATIONS,
    momentum: float = MOMENTUM,
    nnls_steps: int = NNLS_STEPS,
    nnls_tolerance: float = NNLS_TOLERANCE,
    level: float | None = None,
    level_quantile: float = 1.0,
    is_power: bool = False,
) -> jax.Array:
    """Waveforms [B, frames * hop] from log-mels [B, n_mels, frames] as the front end makes them.

    `keys`: one PRNG key per clip (or one key for the batch) for Griffin-Lim's initial phase. `level`: when
    given, `normalise_level(mels, level, level_quantile)` first (log-mel input only). With `is_power`, `mels`
    is a mel power spectrogram instead. Its two stages are jitted separately (NNLS, Griffin-Lim), so each
    compiles once per batch shape and is shared with their direct callers.
    """
    if level is not None:
        if is_power:
            raise ValueError("level normalisation takes log-mels, not power (is_power=True)")
        mels = normalise_level(mels, level, level_quantile)
    magnitude = mel_to_magnitude(mels, geometry, steps=nnls_steps, tolerance=nnls_tolerance,
                                 is_power=is_power)  # [B, F, T]
    return griffin_lim(magnitude, keys, geometry, iterations, momentum)


def librosa_mel_to_audio(
    mel: np.ndarray,
    geometry: MelGeometry = BASELINE,
    *,
    iterations: int = GRIFFIN_LIM_ITERATIONS,
    seed: int = 0,
    is_power: bool = False,
) -> np.ndarray:
    """The reference path: one log-mel [n_mels, frames] through librosa 0.11 -> [frames * hop].

    The two steps of librosa's `mel_to_audio` (`mel_to_stft`, then `griffinlim`) with the same settings, called
    separately so that Griffin-Lim's random phase is seeded.
    """
    magnitude = librosa_mel_to_magnitude(mel, geometry, is_power=is_power)  # [F, T]
    return librosa_griffin_lim(magnitude, geometry, iterations=iterations, random_state=seed)
