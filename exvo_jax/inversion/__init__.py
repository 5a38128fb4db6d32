"""Mel -> waveform for the generation track: NNLS to a linear magnitude, then Griffin-Lim, batched in JAX.

Modules: `nnls` (mel power -> linear magnitude, FISTA), `griffin_lim` (STFT, inverse STFT, fast Griffin-Lim,
spectral convergence), `waveform` (the whole inversion from log-mels, and level normalisation). Each stage
has its librosa reference path beside it (`librosa_mel_to_magnitude`, `librosa_griffin_lim`,
`librosa_mel_to_audio`: librosa's `mel_to_audio` with the same settings). The log-mel front end they invert
is `exvo_jax.features.logmel`.
"""

from exvo_jax.inversion.griffin_lim import griffin_lim, istft, librosa_griffin_lim, spectral_convergence, stft
from exvo_jax.inversion.nnls import librosa_mel_to_magnitude, mel_fit_error, mel_to_magnitude, nnls_power
from exvo_jax.inversion.waveform import librosa_mel_to_audio, mel_to_audio, normalise_level

__all__ = [
    "griffin_lim",
    "istft",
    "librosa_griffin_lim",
    "librosa_mel_to_audio",
    "librosa_mel_to_magnitude",
    "mel_fit_error",
    "mel_to_audio",
    "mel_to_magnitude",
    "nnls_power",
    "normalise_level",
    "spectral_convergence",
    "stft",
]
