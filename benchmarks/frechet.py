"""Benchmark: Frechet distance between two 256-d Gaussians estimated from 1,000 and 20,000 samples.

Compares `exvo_jax.metrics` (jitted, float64; Cholesky route with an eigendecomposition fallback) with the pytorch-fid
formula (`benchmarks.torch_reference.frechet`: numpy statistics, `scipy.linalg.sqrtm`) in the same run.
Two timings each, after warm-up, best (minimum) of repeats, the two implementations timed alternately
so that both see the same background load:
  * distance only: from precomputed statistics (mu, sigma);
  * stats + distance: from the raw feature matrices.
Run: `python -m benchmarks.frechet [--repeats 7] [--record]` (`--record` writes its section of
benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import jax
import numpy as np
import scipy

from benchmarks.results_file import RESULTS, record_section
from benchmarks.torch_reference.frechet import reference_frechet_distance, reference_stats
from exvo_jax.metrics import frechet_distance, gaussian_stats

DIM, N_SMALL, N_LARGE = 256, 1_000, 20_000
SECTION = "## frechet"


def _features(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mix_a = rng.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    mix_b = mix_a + 0.3 * rng.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    a = rng.normal(size=(N_SMALL, DIM)) @ mix_a
    b = 0.2 + rng.normal(size=(N_LARGE, DIM)) @ mix_b
    return a, b


def _best_seconds(jax_fn: Callable[[], object], ref_fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best times of two functions, measured alternately so that both see the same background load."""
    jax.block_until_ready(jax_fn())  # warm-up (compilation)
    ref_fn()
    jax_times, ref_times = [], []
    for _ in range(repeats):
        for fn, times in ((jax_fn, jax_times), (ref_fn, ref_times)):
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times.append(time.perf_counter() - start)
    return min(jax_times), min(ref_times)


def run(repeats: int) -> dict:
    a, b = _features()
    stats = (*reference_stats(a), *reference_stats(b))
    ref_value = reference_frechet_distance(*stats)
    with jax.enable_x64(True):
        fid_from_features = jax.jit(lambda x, y: frechet_distance(*gaussian_stats(x), *gaussian_stats(y)))
        ja, jb = jax.device_put(a), jax.device_put(b)
        jstats = [jax.device_put(s) for s in (*gaussian_stats(ja), *gaussian_stats(jb))]
        jax_value = float(frechet_distance(*jstats))
        distance = _best_seconds(lambda: frechet_distance(*jstats), lambda: reference_frechet_distance(*stats), repeats)
        full = _best_seconds(
            lambda: fid_from_features(ja, jb),
            lambda: reference_frechet_distance(*reference_stats(a), *reference_stats(b)),
            repeats,
        )
    return {
        "jax_value": jax_value,
        "ref_value": ref_value,
        "rel_diff": abs(jax_value - ref_value) / abs(ref_value),
        "distance": distance,
        "full": full,
    }


def _environment() -> str:
    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"backend {jax.default_backend()}; python {platform.python_version()}, jax {jax.__version__}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}; load average {os.getloadavg()[0]:.1f} at the end of the run")


def format_results(r: dict, repeats: int) -> str:
    lines = [
        SECTION,
        "",
        f"Frechet distance, two {DIM}-d Gaussians from {N_SMALL:,} and {N_LARGE:,} samples; "
        f"best of {repeats} alternating runs after warm-up; exvo_jax jitted in float64 vs pytorch-fid formula (scipy sqrtm).",
        f"Machine: {_environment()}.",
        "",
        "| timing | exvo_jax | reference (scipy sqrtm) | speed-up |",
        "|---|---|---|---|",
    ]
    for key, label in (("distance", "distance from stats"), ("full", "stats + distance")):
        jax_t, ref_t = r[key]
        lines.append(f"| {label} | {jax_t * 1e3:.1f} ms | {ref_t * 1e3:.1f} ms | {ref_t / jax_t:.1f}x |")
    lines += ["", f"Values: exvo_jax {r['jax_value']:.6f}, reference {r['ref_value']:.6f}, "
              f"relative difference {r['rel_diff']:.2e}.",
              "'stats + distance' is dominated by the float64 covariance of the 20,000 x 256 features (one GEMM "
              "in either implementation); absolute times grow with the machine's background load, the ratios "
              "are from alternating runs.", ""]
    return "\n".join(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    results = run(args.repeats)
    for key, label in (("distance", "distance from stats"), ("full", "stats + distance")):
        jax_t, ref_t = results[key]
        print(f"{label:20s} exvo_jax {jax_t * 1e3:8.1f} ms | reference {ref_t * 1e3:8.1f} ms | ratio {ref_t / jax_t:5.1f}x")
    print(f"value: exvo_jax {results['jax_value']:.6f} reference {results['ref_value']:.6f} "
          f"relative difference {results['rel_diff']:.2e}")
    section = format_results(results, args.repeats)
    if args.record:
        record_section(SECTION, section)
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
