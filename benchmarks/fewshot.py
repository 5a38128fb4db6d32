"""Few-shot benchmark: per-speaker adaptation (563 speakers, 2 support clips of 2 s, K=10) and
the training step (batch 8, 2 s clips), JAX against the PyTorch reference in the same run.

    .venv/bin/python -m benchmarks.fewshot [--speakers 563] [--queries 0] [--chunks 3] [--torch-speakers 8] [--record]

JAX: encoder features of every clip computed once, batched, then the adaptation engine per mode
(`full` with the backend's default strategy and with the other one, `bias_head`, `lora`). PyTorch:
a loop over speakers that recomputes the CNN at every step (the baseline's approach) and a loop on
cached CNN features. Every speaker costs the same, so on a machine shared with other jobs the totals
are extrapolated from medians (PyTorch per speaker, JAX per chunk), which bursts of load barely move.
JAX times exclude compilation (a warm-up chunk runs first).
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import numpy as np
import torch

from benchmarks.results_file import record_section
from benchmarks.torch_reference.fewshot import (
    TorchCnnLstm,
    adapt_baseline_style,
    adapt_cached,
    load_flax_params,
    train_step,
)
from exvo_jax.models.cnn_lstm import CnnLstm
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import FramedSet, epoch_batches, init_state, train_step_program
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, SpeakerTask, personalise, resolve_strategy
from exvo_jax.recognition.settings import NetworkSettings, RecognitionSettings

SECTION = "## fewshot"

FRAMES, SHOTS, STEPS, LR = 20, 2, 10, 1e-3


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    jax.block_until_ready(out)
    return time.perf_counter() - start, out


def untrained_pair(hidden: int) -> tuple[CnnLstm, dict, TorchCnnLstm]:
    """The freshly initialised network (model, variables) and the PyTorch reference holding the same weights."""
    model = CnnLstm(hidden=hidden)
    _, record = init_state(model, RecognitionSettings(model=NetworkSettings(hidden=hidden)))
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    return model, variables, load_flax_params(TorchCnnLstm(hidden), variables).eval()


def median_time(fn, units) -> float:
    """Median seconds of `fn(unit)` over `units` (robust to bursts of load on a shared machine)."""
    times = []
    for unit in units:
        times.append(timed(fn, unit)[0])
    return float(np.median(times))


def bench_adaptation(args, model, variables, reference):
    """Seconds for `args.speakers` speakers, each estimated as median per unit x number of units."""
    rng = np.random.default_rng(0)
    queries = args.queries
    per, chunk = SHOTS + queries, args.chunk_size
    measured = min(args.speakers, chunk * args.chunks)
    clips = rng.normal(scale=0.1, size=(measured * per, FRAMES, 1600)).astype(np.float32)
    targets = rng.uniform(size=(measured, SHOTS, 10)).astype(np.float32)
    scale = args.speakers / chunk

    def encode(start):
        return encode_clips(model, variables, list(clips[start * per:(start + chunk) * per]), batch_size=64,
                            buckets=(FRAMES,))

    encode(0)  # compile
    encode_time = median_time(encode, range(0, measured, chunk)) * scale
    features = encode_clips(model, variables, list(clips), batch_size=64, buckets=(FRAMES,))
    tasks = [SpeakerTask(str(s), tuple(features[s * per:s * per + SHOTS]), targets[s],
                         tuple(features[s * per + SHOTS:(s + 1) * per])) for s in range(measured)]
    head = variables["params"]["head"]

    lengths, qlengths = torch.full((SHOTS,), FRAMES), torch.full((queries,), FRAMES)

    def torch_speaker(s, cached: bool):
        frames = torch.from_numpy(clips[s * per:(s + 1) * per])
        if cached:
            with torch.no_grad():
                frames = reference.encode(frames)  # the cached loop's one CNN pass for this speaker
        speaker = [(frames[:SHOTS], lengths, torch.from_numpy(targets[s]), frames[SHOTS:], qlengths)]
        return (adapt_cached if cached else adapt_baseline_style)(reference, speaker, STEPS, LR)

    n = min(args.torch_speakers, measured)
    baseline = median_time(lambda s: torch_speaker(s, False), range(n)) * args.speakers
    cached = median_time(lambda s: torch_speaker(s, True), range(n)) * args.speakers

    rows = []
    backend_default = resolve_strategy("auto", "full")
    other = "vmap" if backend_default == "map" else "map"
    for mode, strategy in (("full", backend_default), ("full", other), ("bias_head", "auto"), ("lora", "auto")):
        if mode == "full" and strategy == other and args.skip_slow_strategy:
            continue
        settings = AdaptSettings(mode=mode, steps=STEPS, learning_rate=LR, strategy=strategy, chunk_size=chunk)

        def adapt(start):
            return personalise(head, tasks[start:start + chunk], settings, hidden=args.hidden, outputs=10,
                               buckets=(FRAMES,))

        adapt(0)  # compile
        seconds = median_time(adapt, range(0, measured, chunk)) * scale + encode_time
        rows.append((f"{mode} ({resolve_strategy(strategy, mode)})", seconds, baseline / seconds, cached / seconds))
    print(f"PyTorch baseline-style loop (CNN each step): {baseline:8.1f} s  (median of {n} speakers x {args.speakers})")
    print(f"PyTorch loop on cached CNN features:         {cached:8.1f} s  (median of {n} speakers x {args.speakers})")
    print(f"JAX batched CNN features:                    {encode_time:8.1f} s  (included below)")
    for name, seconds, vs_base, vs_cached in rows:
        print(f"JAX {name:22s}: {seconds:8.1f} s  {vs_base:6.1f}x vs baseline loop  {vs_cached:5.1f}x vs cached loop")
    return rows, baseline, cached, encode_time, n


def bench_train_step(args) -> tuple[float, float]:
    config = RecognitionSettings(model=NetworkSettings(hidden=args.hidden))
    model = CnnLstm(hidden=args.hidden)
    state, _ = init_state(model, config)
    step = train_step_program(model)
    rng = np.random.default_rng(1)
    data = FramedSet([rng.normal(scale=0.1, size=(FRAMES, 1600)).astype(np.float32) for _ in range(8)],
                     rng.uniform(size=(8, 10)).astype(np.float32))
    batch = next(epoch_batches(data, 8, (FRAMES,), 0, 0))
    reference = TorchCnnLstm(args.hidden)
    optimizer = torch.optim.AdamW(reference.parameters(), lr=1e-3, weight_decay=0.01)
    frames, lengths, targets = torch.from_numpy(batch[0]), torch.full((8,), FRAMES), torch.from_numpy(batch[2])
    holder = [state]

    def jax_step(_):
        holder[0], loss = step(holder[0], *batch)
        return loss

    jax_step(0)  # compile
    train_step(reference, optimizer, frames, lengths, targets)
    ours, theirs = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same load
        ours.append(timed(jax_step, 0)[0])
        theirs.append(timed(train_step, reference, optimizer, frames, lengths, targets)[0])
    ours, theirs = float(np.median(ours)), float(np.median(theirs))
    print(f"train step (batch 8, 2 s): JAX {ours * 1e3:.0f} ms, PyTorch {theirs * 1e3:.0f} ms, "
          f"ratio {theirs / ours:.2f}x")
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=563)
    parser.add_argument("--torch-speakers", type=int, default=8, help="PyTorch speakers measured (median)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--queries", type=int, default=0, help="query clips (2 s) predicted per speaker")
    parser.add_argument("--chunk-size", type=int, default=64, help="speakers per JAX chunk")
    parser.add_argument("--chunks", type=int, default=3, help="JAX chunks measured (median, extrapolated)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-slow-strategy", action="store_true",
                        help="skip full fine-tuning with the strategy the backend does not pick (vmap on CPU)")
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    model, variables, reference = untrained_pair(args.hidden)
    rows, baseline, cached, encode_time, n = bench_adaptation(args, model, variables, reference)
    ours, theirs = bench_train_step(args)
    if args.record:
        record_results(args, rows, baseline, cached, encode_time, n, ours, theirs)


def record_results(args, rows, baseline, cached, encode_time, n, ours, theirs) -> None:
    lines = [
        SECTION,
        "",
        f"Machine: {platform.machine()}, {jax.local_device_count()} x {jax.default_backend()}, "
        f"{torch.get_num_threads()} torch threads; jax {jax.__version__}, torch {torch.__version__}. "
        "The CPU was shared with other jobs: ratios are more telling than seconds.",
        "",
        f"Adaptation of {args.speakers} speakers (H={args.hidden}, {SHOTS} support + {args.queries} query clips of 2 s, "
        f"K={STEPS}), extrapolated linearly from medians: PyTorch per speaker over {n} speakers, JAX per chunk of "
        f"{args.chunk_size} speakers over {args.chunks} chunks (compilation excluded, the batched CNN pass, "
        f"{encode_time:.1f} s, included).",
        "",
        "| implementation | seconds | vs PyTorch baseline-style loop | vs PyTorch cached-feature loop |",
        "|---|---|---|---|",
        f"| PyTorch loop, CNN recomputed each step | {baseline:.1f} | 1.0x | |",
        f"| PyTorch loop, cached CNN features | {cached:.1f} | {baseline / cached:.1f}x | 1.0x |",
    ]
    lines += [f"| JAX {name} | {s:.1f} | {vb:.1f}x | {vc:.1f}x |" for name, s, vb, vc in rows]
    lines += ["", f"Training step, batch 8, 2 s clips: JAX {ours * 1e3:.0f} ms, PyTorch {theirs * 1e3:.0f} ms "
              f"(JAX {theirs / ours:.2f}x the PyTorch speed).", ""]
    record_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
