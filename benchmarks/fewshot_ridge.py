"""Few-shot `ridge` personalisation of 563 speakers (2 support clips of 2 s each), end to end from frames,
against the PyTorch baseline-style loop (K AdamW steps per speaker, the CNN recomputed at every step).

    .venv/bin/python -m benchmarks.fewshot_ridge [--speakers 563] [--queries 0] [--torch-speakers 8] [--record]

JAX: the batched CNN pass over every clip (`encode_clips`), then `personalise` in mode `ridge`: the
LSTM pass over every support (and query) clip and one batched solve per chunk of speakers. Timed as a
whole, compilation excluded (a first run compiles every shape), the median of `--repeats` runs.
PyTorch: `adapt_baseline_style` (the loop `benchmarks.fewshot` times) speaker by speaker, with 1 and
with 2 threads (the better counts: spinning threads suffer most on a loaded machine); every speaker
costs the same, so the total is the median speaker over `--torch-speakers` times the speaker count
(robust to bursts of load). PyTorch and JAX runs alternate, so both see the same load.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np
import torch

from benchmarks.fewshot import FRAMES, LR, SHOTS, STEPS, median_time, timed, untrained_pair
from benchmarks.results_file import record_section
from benchmarks.torch_reference.fewshot import adapt_baseline_style
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, SpeakerTask, personalise

SECTION = "## fewshot_ridge"
TARGET = 100.0
THREADS = (1, 2)


def jax_ridge(model, variables, clips: np.ndarray, targets: np.ndarray, args) -> tuple[list[np.ndarray], float]:
    """Query predictions of every speaker, from frames; and the seconds of the CNN pass within."""
    per = SHOTS + args.queries
    start = time.perf_counter()
    features = encode_clips(model, variables, list(clips), batch_size=64, buckets=(FRAMES,))
    encoded = time.perf_counter() - start
    tasks = [SpeakerTask(str(s), tuple(features[s * per:s * per + SHOTS]), targets[s],
                         tuple(features[s * per + SHOTS:(s + 1) * per])) for s in range(args.speakers)]
    settings = AdaptSettings(mode="ridge", ridge_strength=args.strength, chunk_size=args.chunk_size)
    predictions = personalise(variables["params"]["head"], tasks, settings, hidden=args.hidden, outputs=10,
                              buckets=(FRAMES,))
    return predictions, encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=563)
    parser.add_argument("--queries", type=int, default=0, help="query clips (2 s) predicted per speaker")
    parser.add_argument("--torch-speakers", type=int, default=8, help="PyTorch speakers measured (median)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--strength", type=float, default=0.1, help="ridge strength (speed does not depend on it)")
    parser.add_argument("--chunk-size", type=int, default=64, help="speakers per JAX chunk")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()

    model, variables, reference = untrained_pair(args.hidden)
    rng = np.random.default_rng(0)
    per = SHOTS + args.queries
    clips = rng.normal(scale=0.1, size=(args.speakers * per, FRAMES, 1600)).astype(np.float32)
    targets = rng.uniform(size=(args.speakers, SHOTS, 10)).astype(np.float32)

    lengths, query_lengths = torch.full((SHOTS,), FRAMES), torch.full((args.queries,), FRAMES)

    def torch_speaker(s: int):
        frames = torch.from_numpy(clips[s * per:(s + 1) * per])
        speaker = [(frames[:SHOTS], lengths, torch.from_numpy(targets[s]), frames[SHOTS:], query_lengths)]
        return adapt_baseline_style(reference, speaker, STEPS, LR)

    n = min(args.torch_speakers, args.speakers)
    jax_ridge(model, variables, clips, targets, args)  # compile every shape
    torch_speaker(0)  # warm-up
    runs, per_speaker = [], {threads: [] for threads in THREADS}
    for _ in range(args.repeats):
        runs.append(timed(jax_ridge, model, variables, clips, targets, args))
        for threads in THREADS:
            torch.set_num_threads(threads)
            per_speaker[threads].append(median_time(torch_speaker, range(n)))
    seconds = float(np.median([t for t, _ in runs]))
    encode = float(np.median([out[1] for _, out in runs]))
    threads = min(THREADS, key=lambda k: np.median(per_speaker[k]))
    baseline = float(np.median(per_speaker[threads])) * args.speakers
    ratio = baseline / seconds
    print(f"JAX ridge, {args.speakers} speakers end to end: {seconds:8.2f} s  (CNN pass {encode:.2f} s, "
          f"LSTM pass and solves {seconds - encode:.2f} s; median of {args.repeats})")
    print(f"PyTorch baseline-style loop (K={STEPS}):      {baseline:8.2f} s  (median of {n} speakers x "
          f"{args.speakers}, {threads} thread(s); per speaker, s: " + ", ".join(
              f"{k} thread(s) {np.round(v, 3).tolist()}" for k, v in per_speaker.items()) + ")")
    print(f"ratio: {ratio:.1f}x (target {TARGET:g}x)")
    if args.record:
        record_results(args, seconds, encode, baseline, n, threads, per_speaker)


def record_results(args, seconds: float, encode: float, baseline: float, n: int, threads: int,
                   per_speaker: dict[int, list[float]]) -> None:
    lines = [
        SECTION,
        "",
        f"`ridge` personalisation of {args.speakers} speakers (H={args.hidden}, {SHOTS} support + {args.queries} "
        f"query clips of 2 s), end to end from frames: the batched CNN pass, the LSTM pass and one batched "
        f"solve per chunk of {args.chunk_size} speakers (median of {args.repeats} runs, compilation excluded), "
        f"against the PyTorch baseline-style loop (K={STEPS} AdamW steps per speaker, CNN recomputed at every "
        f"step; the median speaker of {n}, median over {args.repeats} rounds alternating with JAX's, x "
        f"{args.speakers}; the better of 1 and 2 threads: {threads}). PyTorch seconds per speaker, round by round: "
        + "; ".join(f"{k} thread(s) " + ", ".join(f"{t:.3f}" for t in v) for k, v in per_speaker.items()) + ".",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPU cores, {jax.local_device_count()} x "
        f"{jax.default_backend()}; python {platform.python_version()}, jax {jax.__version__}, numpy {np.__version__}, "
        f"torch {torch.__version__}; load average {os.getloadavg()[0]:.1f} at the end of the run.",
        "",
        "| implementation | seconds | ratio (PyTorch / this) |",
        "|---|---|---|",
        f"| PyTorch baseline-style loop | {baseline:.1f} | 1.0x |",
        f"| JAX `ridge`, end to end | {seconds:.2f} | {baseline / seconds:.1f}x |",
        f"| of which the batched CNN pass | {encode:.2f} | {baseline / encode:.1f}x |",
        "",
    ]
    record_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
