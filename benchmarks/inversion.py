"""Benchmark: log-mel -> waveform (NNLS + 32 Griffin-Lim iterations) per clip, exvo_jax against librosa.

Baseline geometry (128 mels x 512 frames, hop 128: 4.096 s clips). exvo_jax inverts 100 clips in one batch:
`mel_to_magnitude` (FISTA NNLS, stopping at a relative step of 1e-5, at most 400 steps) then `griffin_lim`,
each timed, after a first pass that also compiles (reported apart). The reference is the package's librosa
path, one clip at a time, each step timed: `librosa_mel_to_magnitude` (librosa's `mel_to_stft`, L-BFGS-B
NNLS) then `librosa_griffin_lim` (`griffinlim`), together `librosa_mel_to_audio`, the two steps of librosa's
`mel_to_audio`. Its NNLS takes seconds to tens of seconds per clip, so it runs on the first 5 clips only.
Per-clip figures are compared. Quality on those 5 clips, for both: the relative mel fit error of the NNLS
magnitude and the mean absolute difference between the log-mel of the returned waveform and the log-mel
that was inverted. The clips are synthetic vocal bursts from `exvo_jax.synth`, looped to 4.096 s.
Run: `python -m benchmarks.inversion [--clips 100] [--reference-clips 5] [--record]` (`--record` writes its
section of benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.logmel import environment, synthetic_clips
from benchmarks.results_file import RESULTS, record_section
from exvo_jax.features.logmel import BASELINE, MelGeometry, log_mel, log_mel_to_power
from exvo_jax.inversion import (
    griffin_lim,
    librosa_griffin_lim,
    librosa_mel_to_audio,
    librosa_mel_to_magnitude,
    mel_fit_error,
    mel_to_magnitude,
)
from exvo_jax.inversion.nnls import NNLS_STEPS, NNLS_TOLERANCE

CLIPS, REFERENCE_CLIPS = 100, 5
SECTION = "## inversion"


def _timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def _quality(log_mels: np.ndarray, magnitudes: np.ndarray, waves: np.ndarray, geometry: MelGeometry) -> tuple:
    """Mean relative mel fit error of the magnitudes and mean |log-mel(wave) - log-mel| over the clips."""
    fit = mel_fit_error(jnp.square(magnitudes), log_mel_to_power(log_mels), geometry)
    resynthesised = log_mel(waves, geometry)
    return float(jnp.mean(fit)), float(jnp.mean(jnp.abs(resynthesised - log_mels)))


def run(count: int, reference_count: int, geometry: MelGeometry = BASELINE) -> dict:
    clips = synthetic_clips(count, geometry.seconds, geometry.seconds)
    log_mels = log_mel(np.stack(clips), geometry)  # [B, M, T]
    keys = jax.random.split(jax.random.key(0), count)

    magnitudes, first_nnls = _timed(lambda: mel_to_magnitude(log_mels, geometry))
    _, first_gl = _timed(lambda: griffin_lim(magnitudes, keys, geometry))
    magnitudes, jax_nnls = _timed(lambda: mel_to_magnitude(log_mels, geometry))
    waves, jax_gl = _timed(lambda: griffin_lim(magnitudes, keys, geometry))

    ref_magnitudes, ref_waves, ref_nnls, ref_gl = [], [], 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa's empty-filter check
        small = MelGeometry(geometry.n_mels, geometry.hop, 16)
        librosa_mel_to_audio(np.asarray(log_mels[0, :, :16]), small)  # warm-up: librosa's first-call imports
        for mel in np.asarray(log_mels[:reference_count]):
            magnitude, seconds = _timed(lambda: librosa_mel_to_magnitude(mel, geometry))
            ref_magnitudes.append(magnitude)
            ref_nnls += seconds
            wave, seconds = _timed(lambda: librosa_griffin_lim(magnitude, geometry))
            ref_waves.append(wave)
            ref_gl += seconds
    n = reference_count
    return {
        "count": count, "reference_count": n, "geometry": geometry,
        "first_call": first_nnls + first_gl,
        "jax_nnls": jax_nnls / count, "jax_gl": jax_gl / count,
        "ref_nnls": ref_nnls / n, "ref_gl": ref_gl / n,
        "jax_quality": _quality(log_mels[:n], magnitudes[:n], waves[:n], geometry),
        "ref_quality": _quality(log_mels[:n], np.stack(ref_magnitudes), np.stack(ref_waves), geometry),
        "load": os.getloadavg()[0],
    }


def format_results(r: dict) -> str:
    g = r["geometry"]
    jax_total, ref_total = r["jax_nnls"] + r["jax_gl"], r["ref_nnls"] + r["ref_gl"]
    lines = [
        SECTION,
        "",
        f"Log-mel -> waveform at {g.n_mels} mels x {g.frames} frames, hop {g.hop} ({g.seconds:g} s clips), "
        f"32 Griffin-Lim iterations, momentum 0.99: exvo_jax over {r['count']} clips in one batch "
        f"(FISTA NNLS to a relative step of {NNLS_TOLERANCE:g}, at most {NNLS_STEPS} steps, then Griffin-Lim) "
        f"vs librosa (`mel_to_stft` + `griffinlim`, the steps of `mel_to_audio`) on {r['reference_count']} of "
        "them, one at a time. Per-clip times.",
        f"Machine: {environment()}; load average {r['load']:.1f} at the end of the run.",
        "",
        "| per clip | exvo_jax | reference (librosa) | speed-up |",
        "|---|---|---|---|",
        f"| NNLS | {r['jax_nnls']:.3f} s | {r['ref_nnls']:.2f} s | {r['ref_nnls'] / r['jax_nnls']:.1f}x |",
        f"| Griffin-Lim | {r['jax_gl']:.3f} s | {r['ref_gl']:.3f} s | {r['ref_gl'] / r['jax_gl']:.1f}x |",
        f"| total | {jax_total:.3f} s | {ref_total:.2f} s | {ref_total / jax_total:.1f}x |",
        "",
        f"exvo_jax's first pass, compilation included: {r['first_call']:.1f} s for the {r['count']} clips.",
        f"Quality on the {r['reference_count']} reference clips: relative mel fit error of the NNLS magnitude "
        f"{r['jax_quality'][0]:.1e} (exvo_jax) vs {r['ref_quality'][0]:.1e} (librosa); mean absolute log-mel "
        f"difference of the returned audio from the inverted log-mel {r['jax_quality'][1]:.3f} vs "
        f"{r['ref_quality'][1]:.3f}.",
        "",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=CLIPS)
    parser.add_argument("--reference-clips", type=int, default=REFERENCE_CLIPS)
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    r = run(args.clips, args.reference_clips)
    jax_total, ref_total = r["jax_nnls"] + r["jax_gl"], r["ref_nnls"] + r["ref_gl"]
    print(f"per clip: exvo_jax {jax_total:.3f} s (NNLS {r['jax_nnls']:.3f}, Griffin-Lim {r['jax_gl']:.3f}) | "
          f"librosa {ref_total:.2f} s (NNLS {r['ref_nnls']:.2f}, Griffin-Lim {r['ref_gl']:.3f}) | "
          f"ratio {ref_total / jax_total:.1f}x")
    print(f"quality (fit error, log-mel difference): exvo_jax {r['jax_quality']} librosa {r['ref_quality']}")
    if args.record:
        record_section(SECTION, format_results(r))
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
