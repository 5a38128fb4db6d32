"""The generation track's log-mel front end in jax.numpy, batched and jitted, with its librosa reference.

The generate baseline trains its GAN on `log(mel + 1e-6) / 2` of a 16 kHz power STFT (n_fft 512, Hann window,
centre reflect padding) through librosa's Slaney mel filterbank with `norm=1`, cut or padded to a fixed number
of frames. In librosa 0.11 `norm=1` means each filter is scaled to unit L1 norm (its weights sum to one;
empty filters stay zero), which is what `mel_filterbank` builds. Computing it in JAX keeps a whole batch of
clips in one compiled call instead of one librosa call per clip; `librosa_log_mel` is the reference it is
tested and benchmarked against. `MelGeometry` names the shapes in use: the baseline's 128 x 512 at hop 128,
the winning entry's 128 x 128 at hop 256, and small ones for CPU-sized GANs.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np

MEL_EPS = 1e-6
LOG_FLOOR = math.log(MEL_EPS) / 2  # the value of a silent bin, and of the padding frames
CLIPS_PER_STEP = 4  # clips computed together inside one jitted call


@dataclasses.dataclass(frozen=True)
class MelGeometry:
    """Shape of a log-mel image: `n_mels` bands x `frames` frames, one frame every `hop` samples."""

    n_mels: int
    hop: int
    frames: int
    sample_rate: int = 16_000
    n_fft: int = 512

    def __post_init__(self):
        if min(self.n_mels, self.hop, self.frames, self.sample_rate, self.n_fft) <= 0:
            raise ValueError(f"every field of {self} must be positive")
        if self.n_fft % self.hop or self.n_fft // self.hop < 2:
            raise ValueError(f"n_fft {self.n_fft} must be a multiple of hop {self.hop}, at least twice it "
                             "(frames are cut by reshape and overlap)")

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def num_samples(self) -> int:
        """Samples spanned by `frames` frames: the waveform length an inversion returns."""
        return self.frames * self.hop

    @property
    def seconds(self) -> float:
        return self.num_samples / self.sample_rate


BASELINE = MelGeometry(n_mels=128, hop=128, frames=512)  # 4.096 s, the ExVo generate baseline
WINNER = MelGeometry(n_mels=128, hop=256, frames=128)  # 2.048 s, the best ExVo generate entry
TINY = MelGeometry(n_mels=32, hop=128, frames=128)  # 1.024 s, small GAN configurations
NANO = MelGeometry(n_mels=16, hop=128, frames=64)  # 0.512 s, the output of a depth-4 GAN (16 x 64)
PRESETS = {"baseline": BASELINE, "winner": WINNER, "tiny": TINY, "nano": NANO}


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (27 mels per factor 6.4)."""
    hz = np.asarray(hz, np.float64)
    log_region = hz >= 1000.0
    mel = hz / (200.0 / 3)
    return np.where(log_region, 15.0 + np.log(np.maximum(hz, 1000.0) / 1000.0) / (np.log(6.4) / 27), mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    log_region = mel >= 15.0
    return np.where(log_region, 1000.0 * np.exp((np.log(6.4) / 27) * (mel - 15.0)), mel * (200.0 / 3))


@functools.lru_cache(maxsize=None)
def mel_filterbank(geometry: MelGeometry) -> np.ndarray:
    """Triangular Slaney filters from 0 Hz to Nyquist, each scaled to unit L1 norm: [n_mels, n_freqs], read-only."""
    fft_hz = np.linspace(0.0, geometry.sample_rate / 2, geometry.n_freqs)  # [F]
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(geometry.sample_rate / 2), geometry.n_mels + 2))  # [M + 2]
    width = np.diff(edges)  # [M + 1]
    ramps = edges[:, None] - fft_hz[None, :]  # [M + 2, F]
    rising = -ramps[:-2] / width[:-1, None]
    falling = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)  # [M, F]
    l1 = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(l1 < np.finfo(np.float32).tiny, 1.0, l1)
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=None)
def hann_window(n_fft: int) -> np.ndarray:
    """Periodic Hann window (scipy's `get_window('hann', n_fft)`): [n_fft]."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def frame(padded: jax.Array, geometry: MelGeometry, frames: int) -> jax.Array:
    """[B, P] -> [B, frames, n_fft], frame t starting at sample t * hop; P >= (frames - 1) * hop + n_fft."""
    per_frame = geometry.n_fft // geometry.hop
    chunks = padded[:, : (frames + per_frame - 1) * geometry.hop]
    chunks = chunks.reshape(padded.shape[0], frames + per_frame - 1, geometry.hop)  # [B, frames + r - 1, hop]
    return jnp.concatenate([chunks[:, j : j + frames] for j in range(per_frame)], axis=-1)


def _reflect_padded(waves: jax.Array, lengths: jax.Array, geometry: MelGeometry) -> jax.Array:
    """Each clip reflected by n_fft / 2 at both ends of its own length: [B, N] -> [B, (frames - 1) * hop + n_fft]."""
    half = geometry.n_fft // 2
    position = jnp.arange((geometry.frames - 1) * geometry.hop + geometry.n_fft) - half  # [P]
    last = lengths[:, None] - 1  # [B, 1]
    index = jnp.abs(position)[None, :]  # reflect at the start
    index = jnp.where(index > last, 2 * last - index, index)  # reflect at each clip's end
    index = jnp.clip(index, 0, waves.shape[1] - 1)  # beyond the reflected tail: masked frames only
    return jnp.take_along_axis(waves, index, axis=1)


def log_mel(waves: jax.Array, geometry: MelGeometry = BASELINE, lengths: jax.Array | None = None) -> jax.Array:
    """`log(mel power + 1e-6) / 2` of a batch of clips: [B, N] -> [B, n_mels, frames] float32.

    `lengths` [B] are the valid samples of each row (default: all N; each must exceed n_fft / 2). A clip gives
    `1 + length // hop` frames, as librosa's centred STFT; beyond that, and beyond `geometry.frames`, frames
    are cut or filled with `LOG_FLOOR`. The FFT runs in float64: a float32 FFT's rounding error is relative
    to the whole frame, and on loud real clips it moves the quietest bins by up to 1e-3 in log-mel units.
    """
    waves = jnp.asarray(waves, jnp.float32)
    chex.assert_rank(waves, 2)
    lengths = jnp.full(waves.shape[:1], waves.shape[1]) if lengths is None else jnp.asarray(lengths)
    chex.assert_shape(lengths, waves.shape[:1])
    with jax.enable_x64(True):
        return _log_mel(waves, lengths, geometry)


@functools.partial(jax.jit, static_argnames="geometry")
def _log_mel(waves: jax.Array, lengths: jax.Array, geometry: MelGeometry) -> jax.Array:
    # A few clips at a time: a clip's float64 frames and spectrum take ~5 MB, and a whole batch of them falls
    # out of the cache (measured 2-4x slower per clip at 100 clips than at 4).
    return jax.lax.map(lambda clip: _log_mel_clips(clip[0][None], clip[1][None], geometry)[0], (waves, lengths),
                       batch_size=CLIPS_PER_STEP)


def _log_mel_clips(waves: jax.Array, lengths: jax.Array, geometry: MelGeometry) -> jax.Array:
    frames = frame(_reflect_padded(waves, lengths, geometry), geometry, geometry.frames)  # [B, T, n_fft]
    windowed = frames.astype(jnp.float64) * hann_window(geometry.n_fft).astype(np.float64)
    spectrum = jnp.fft.rfft(windowed, axis=-1)  # [B, T, F] complex128
    power = (jnp.square(spectrum.real) + jnp.square(spectrum.imag)).astype(jnp.float32)
    mel = jnp.einsum("mf,btf->bmt", mel_filterbank(geometry), power)  # [B, M, T]
    valid = jnp.arange(geometry.frames)[None, :] < (1 + lengths // geometry.hop)[:, None]  # [B, T]
    return jnp.where(valid[:, None, :], jnp.log(mel + MEL_EPS) / 2, jnp.float32(LOG_FLOOR))


def log_mel_to_power(log_mels: jax.Array) -> jax.Array:
    """Undoes the compression: `exp(2 x) - 1e-6`, clipped at 0 (silent and padding bins give exactly 0)."""
    return jnp.maximum(jnp.exp(2 * jnp.asarray(log_mels, jnp.float32)) - MEL_EPS, 0.0)


def librosa_log_mel(wave: np.ndarray, geometry: MelGeometry = BASELINE) -> np.ndarray:
    """The reference path: one clip through librosa 0.11, [N] -> [n_mels, frames]."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(wave, np.float32), sr=geometry.sample_rate, n_fft=geometry.n_fft, hop_length=geometry.hop,
        window="hann", center=True, pad_mode="reflect", power=2.0, n_mels=geometry.n_mels, fmin=0.0,
        fmax=geometry.sample_rate / 2, norm=1,
    )  # [M, 1 + N // hop]
    out = np.full((geometry.n_mels, geometry.frames), LOG_FLOOR, np.float32)
    kept = min(mel.shape[1], geometry.frames)
    out[:, :kept] = np.log(mel[:, :kept] + MEL_EPS) / 2
    return out
