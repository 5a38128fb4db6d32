"""Renders one vocal burst clip from its acoustic parameters and a speaker, vectorised with numpy/scipy.

A clip is a sequence of bursts (onsets spaced by the burst rate, jittered by irregularity), each voiced
(glottal pulse train along an f0 contour with vibrato and jitter, spectral tilt, aspiration noise) or
unvoiced (breathy noise), shaped by an attack/decay envelope and filtered by four formant resonators
placed by the speaker's vocal tract and accent. The session's channel then adds a noise floor, mains
hum and microphone colour; the result is peak-normalised to -3 dBFS.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from exvo_jax.data.audio import peak_normalise
from exvo_jax.data.schema import SAMPLE_RATE
from exvo_jax.synth.speakers import Channel, Speaker

MIN_SECONDS, MAX_SECONDS = 0.5, 5.0
NEUTRAL_FORMANTS_HZ = np.array([600.0, 1400.0, 2550.0, 3500.0])
FORMANT_BANDWIDTHS_HZ = np.array([90.0, 110.0, 170.0, 250.0])
UNVOICED_BANDWIDTH_FACTOR = 3.0
UNVOICED_LEVEL = 0.45  # RMS of unvoiced bursts relative to voiced ones
SHIMMER_PER_JITTER = 4.0  # per-cycle amplitude perturbation relative to the period perturbation
CONTROL_RATE = 100  # Hz of the smooth random f0 wander and shimmer contours


def _resonator_sos(freqs_hz: np.ndarray, bandwidths_hz: np.ndarray, sample_rate: int) -> np.ndarray:
    """[F, 6] second-order sections of unity-DC-gain two-pole resonators (cascade formant filter)."""
    r = np.exp(-np.pi * bandwidths_hz / sample_rate)  # [F]
    theta = 2.0 * np.pi * freqs_hz / sample_rate  # [F]
    a1, a2 = -2.0 * r * np.cos(theta), r * r
    gain = 1.0 + a1 + a2
    zeros = np.zeros_like(r)
    return np.stack([gain, zeros, zeros, np.ones_like(r), a1, a2], axis=1)


@functools.lru_cache(maxsize=4096)
def channel_sos(channel: Channel, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Second-order sections of a microphone: high-pass, a colouring peak and a band-limiting low-pass."""
    nyquist = sample_rate / 2.0
    highpass = signal.butter(2, min(channel.highpass_hz, 0.2 * nyquist) / nyquist, btype="highpass", output="sos")
    lowpass = signal.butter(4, min(channel.lowpass_hz, 0.98 * nyquist) / nyquist, btype="lowpass", output="sos")
    # Peaking equaliser (audio-EQ cookbook), Q = 1.
    amp = 10.0 ** (channel.peak_gain_db / 40.0)
    w0 = 2.0 * np.pi * min(channel.peak_hz, 0.9 * nyquist) / sample_rate
    alpha = np.sin(w0) / 2.0
    b = np.array([1.0 + alpha * amp, -2.0 * np.cos(w0), 1.0 - alpha * amp])
    a = np.array([1.0 + alpha / amp, -2.0 * np.cos(w0), 1.0 - alpha / amp])
    peak = np.concatenate([b / a[0], a / a[0]])[None, :]
    return np.concatenate([highpass, peak, lowpass], axis=0)


def _smooth_noise(rng: np.random.Generator, length: int, sample_rate: int) -> np.ndarray:
    """[T] unit-variance random contour varying at about CONTROL_RATE Hz."""
    knots = rng.normal(size=length * CONTROL_RATE // sample_rate + 2)
    return np.interp(np.arange(length) * (CONTROL_RATE / sample_rate), np.arange(knots.size), knots)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) + 1e-12


def clip_length(physical: dict[str, float], rng: np.random.Generator) -> float:
    """Clip duration in seconds: the emotion-driven length with clip noise, within [0.5, 5] s."""
    return float(np.clip(np.exp(physical["duration"] + rng.normal(0.0, 0.3)), MIN_SECONDS, MAX_SECONDS))


def _burst_plan(physical: dict[str, float], seconds: float, rng: np.random.Generator):
    """Onsets, lengths, voicing, amplitudes and f0 offsets of the bursts of one clip."""
    pre, post = rng.uniform(0.02, 0.18), rng.uniform(0.03, 0.25)
    active = seconds - pre - post
    if active < 0.3:
        scale = max(seconds - 0.3, 0.0) / (pre + post)
        pre, post = pre * scale, post * scale
        active = seconds - pre - post
    count = max(1, int(round(physical["burst_rate"] * active)))
    irregular = 1.0 - physical["regularity"]
    periods = 1.0 + irregular * rng.exponential(0.9, size=count)  # [B]
    periods *= active / periods.sum()
    onsets = pre + np.cumsum(periods) - periods  # [B]
    lengths = periods * rng.uniform(0.55, 0.92, size=count)  # [B]
    voiced = rng.random(count) < physical["voicing"]  # [B]
    trend = np.linspace(-0.5, 0.5, count) if count > 1 else np.zeros(1)
    amps = np.exp(0.05 * physical["f0_slope"] * trend + rng.normal(0.0, 0.1 + 0.3 * physical["roughness"], count))
    f0_offsets = rng.normal(0.0, 0.2 + physical["f0_range"], size=count)  # [B] semitones
    return onsets, lengths, voiced, amps, f0_offsets


def render_clip(
    physical: dict[str, float],
    speaker: Speaker,
    channel: Channel,
    rng: np.random.Generator,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """[T] float32 waveform of one clip recorded through `channel`, peak-normalised to -3 dBFS."""
    seconds = clip_length(physical, rng)
    length = int(round(seconds * sample_rate))
    onsets, lengths, voiced, amps, f0_offsets = _burst_plan(physical, seconds, rng)

    # Per-sample burst index and position inside the burst.
    t = np.arange(length) / sample_rate  # [T]
    burst = np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, None)  # [T]
    u = (t - onsets[burst]) / lengths[burst]  # [T]
    inside = (u >= 0.0) & (u < 1.0)
    u = np.clip(u, 0.0, 1.0)
    attack = physical["attack"]
    rise = np.minimum(u / attack, 1.0)
    decay = np.maximum((1.0 - u) / (1.0 - attack), 0.0)
    shape = np.where(u < attack, rise * rise * (3.0 - 2.0 * rise), decay * np.sqrt(decay))  # smoothstep up, decay down
    roughness = physical["roughness"]
    shimmer = 1.0 + 0.25 * roughness * _smooth_noise(rng, length, sample_rate)
    envelope = shape * inside * amps[burst] * np.clip(shimmer, 0.2, None)  # [T]
    voiced_env = envelope * voiced[burst]
    unvoiced_env = envelope * ~voiced[burst]

    # f0 contour in semitones above the speaker's base.
    semitones = (
        physical["f0_level"]
        + f0_offsets[burst]
        + physical["f0_slope"] * (u - 0.3)
        + 0.4 * physical["f0_range"] * np.sin(2.0 * np.pi * physical["vibrato_rate"] * t + rng.uniform(0, 2 * np.pi))
        + 0.12 * (0.5 + 2.0 * roughness) * _smooth_noise(rng, length, sample_rate)
    )
    f0 = np.clip(speaker.f0_hz * np.exp(semitones * (np.log(2.0) / 12.0)), 55.0, 1000.0)  # [T]
    # Jitter: each glottal cycle gets its own small random period change.
    cycles = np.cumsum(f0) / sample_rate  # [T]
    cycle_of = cycles.astype(np.int64)  # [T]
    per_cycle = speaker.jitter * (0.7 + 0.6 * roughness) * rng.standard_normal((2, int(cycles[-1]) + 1))  # [2, cycles]
    phase = np.mod(np.cumsum(f0 * (1.0 + per_cycle[0, cycle_of])) / sample_rate, 1.0)  # [T]
    cycle_gain = np.clip(1.0 + SHIMMER_PER_JITTER * per_cycle[1, cycle_of], 0.2, None)  # [T]

    # Glottal flow pulses (KLGLOTT88 shape; the open quotient grows with breathiness), differentiated for
    # lip radiation.
    open_q = 0.45 + 0.4 * physical["breathiness"]
    x = np.minimum(phase / open_q, 1.0)
    flow = 6.75 * x * x * (1.0 - x)  # peak 1 at 2/3 of the open phase, closed (0) after it
    source = np.diff(flow, prepend=flow[0])
    tilt = physical["tilt"]
    source = signal.lfilter([1.0 - tilt], [1.0, -tilt], source)
    noise = rng.standard_normal(length, dtype=np.float32)  # aspiration in voiced bursts, frication in unvoiced ones
    aspiration = noise * (0.3 + flow)
    voiced_source = source / _rms(source) + physical["breathiness"] * 0.6 * aspiration / _rms(aspiration)

    formants = NEUTRAL_FORMANTS_HZ * np.array(
        [physical["mouth"], rng.uniform(0.92, 1.08), rng.uniform(0.97, 1.03), 1.0]
    ) * np.array([1.0, *speaker.formants, 1.0]) * speaker.tract_scale
    formants = np.minimum(formants, 0.46 * sample_rate)
    voice = np.zeros(length)  # [T]
    if voiced.any():
        voiced_part = signal.sosfilt(_resonator_sos(formants, FORMANT_BANDWIDTHS_HZ, sample_rate), voiced_source)
        voice += voiced_part * (voiced_env * cycle_gain / _rms(voiced_part))
    if not voiced.all():
        unvoiced_sos = _resonator_sos(formants, FORMANT_BANDWIDTHS_HZ * UNVOICED_BANDWIDTH_FACTOR, sample_rate)
        unvoiced_part = signal.sosfilt(unvoiced_sos, noise)
        voice += unvoiced_part * (UNVOICED_LEVEL * unvoiced_env / _rms(unvoiced_part))

    # Home channel: noise floor and mains hum relative to the active level, then the microphone.
    active = envelope > 0.1
    level = _rms(voice[active]) if active.any() else _rms(voice)
    floor = signal.lfilter([1.0 - channel.noise_tilt], [1.0, -channel.noise_tilt],
                           rng.standard_normal(length, dtype=np.float32))
    floor *= level * 10.0 ** (-channel.snr_db / 20.0) / _rms(floor)
    wave = voice + floor
    if channel.hum_level > 0.0:
        hum_phase = 2.0 * np.pi * channel.hum_hz * t
        hum = np.sin(hum_phase) + np.sin(2.0 * hum_phase) / 2.0 + np.sin(3.0 * hum_phase) / 3.0
        wave += channel.hum_level * level * hum
    wave = signal.sosfilt(channel_sos(channel, sample_rate), wave)
    return peak_normalise(wave)
