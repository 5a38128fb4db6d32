"""Benchmark: the generation track's log-mel front end on 1,000 clips of 2-4 s, exvo_jax against librosa.

exvo_jax computes `exvo_jax.features.logmel.log_mel` at the baseline geometry (128 mels x 512 frames, hop 128)
in batches of 100 zero-filled clips with their lengths, one jitted call per batch (inside it, 4 clips at a
time); the reference is `librosa_log_mel` (librosa's `melspectrogram` with the same settings, then the same
log, cut and padding), one clip at a time. The clips are synthetic vocal bursts from `exvo_jax.synth`, looped
or cut to lengths drawn uniformly from 2-4 s. Both see numpy clips and return numpy log-mels; after a warm-up
(compilation, and librosa's first-call imports) the two are timed alternately, best of `--repeats`, so that
both see the same background load. The largest difference between the two log-mels over all clips is
reported alongside.
Run: `python -m benchmarks.logmel [--clips 1000] [--repeats 3] [--record]` (`--record` writes its section of
benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import librosa
import numpy as np

from benchmarks.results_file import RESULTS, record_section
from exvo_jax.features.logmel import BASELINE, MelGeometry, librosa_log_mel, log_mel
from exvo_jax.synth.corpus import plan_corpus, synthesise

CLIPS, MIN_SECONDS, MAX_SECONDS, BATCH = 1_000, 2.0, 4.0, 100
SECTION = "## logmel"


def synthetic_clips(count: int, min_seconds: float, max_seconds: float, seed: int = 0) -> list[np.ndarray]:
    """`count` synthetic vocal bursts at 16 kHz, each looped or cut to a length uniform in [min, max] seconds."""
    planned = plan_corpus(speakers=count // 4 + 3, clips_per_speaker=5, seed=seed)
    if len(planned) < count:
        raise ValueError(f"the synthetic plan holds {len(planned)} clips, fewer than {count}")
    lengths = np.random.default_rng(seed).integers(int(min_seconds * 16_000), int(max_seconds * 16_000) + 1, count)
    return [np.resize(synthesise(clip, seed), n) for clip, n in zip(planned[:count], lengths)]


def environment() -> str:
    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"backend {jax.default_backend()}; python {platform.python_version()}, jax {jax.__version__}, "
            f"numpy {np.__version__}, librosa {librosa.__version__}")


def _batches(clips: list[np.ndarray], batch: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Clips zero-filled into [batch, longest clip] arrays (one shape, one compilation) with their lengths [batch]."""
    width, out = max(len(c) for c in clips), []
    for start in range(0, len(clips), batch):
        part = clips[start : start + batch]
        waves = np.zeros((len(part), width), np.float32)
        for row, clip in zip(waves, part):
            row[: len(clip)] = clip
        out.append((waves, np.array([len(c) for c in part])))
    return out


def run(count: int, repeats: int, geometry: MelGeometry = BASELINE) -> dict:
    clips = synthetic_clips(count, MIN_SECONDS, MAX_SECONDS)
    batches = _batches(clips, BATCH)

    def with_jax() -> np.ndarray:
        return np.concatenate([np.asarray(log_mel(waves, geometry, lengths)) for waves, lengths in batches])

    def with_librosa() -> np.ndarray:
        return np.stack([librosa_log_mel(clip, geometry) for clip in clips])

    ours, theirs = with_jax(), with_librosa()  # warm-up
    times = {"jax": [], "librosa": []}
    for _ in range(repeats):
        for name, fn in (("jax", with_jax), ("librosa", with_librosa)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {"count": count, "jax": min(times["jax"]), "librosa": min(times["librosa"]),
            "max_diff": float(np.abs(ours - theirs).max()), "load": os.getloadavg()[0]}


def format_results(r: dict, repeats: int) -> str:
    n = r["count"]
    return "\n".join([
        SECTION,
        "",
        f"Log-mel front end (128 mels x 512 frames, hop 128, n_fft 512) of {n:,} synthetic clips of "
        f"{MIN_SECONDS:g}-{MAX_SECONDS:g} s at 16 kHz; exvo_jax jitted, one call per {BATCH} clips, vs librosa "
        f"`melspectrogram` one clip at a time; best of {repeats} alternating runs after warm-up.",
        f"Machine: {environment()}; load average {r['load']:.1f} at the end of the run.",
        "",
        "| timing | exvo_jax | reference (librosa) | speed-up |",
        "|---|---|---|---|",
        f"| {n:,} clips | {r['jax']:.2f} s | {r['librosa']:.2f} s | {r['librosa'] / r['jax']:.1f}x |",
        f"| per clip | {r['jax'] / n * 1e3:.2f} ms | {r['librosa'] / n * 1e3:.2f} ms | |",
        "",
        f"Largest absolute difference of a log-mel value between the two, over all clips: {r['max_diff']:.1e}.",
        "exvo_jax runs the FFT in float64 (a float32 FFT moves the quietest bins of loud frames by up to 1e-3).",
        "",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=CLIPS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    results = run(args.clips, args.repeats)
    print(f"log-mel of {args.clips} clips: exvo_jax {results['jax']:.2f} s | librosa {results['librosa']:.2f} s | "
          f"ratio {results['librosa'] / results['jax']:.1f}x | max abs difference {results['max_diff']:.1e}")
    if args.record:
        record_section(SECTION, format_results(results, args.repeats))
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
