"""FID classifier features of 1,000 clips (256-d top LSTM output at the last valid frame), JAX vs PyTorch.

    .venv/bin/python -m benchmarks.classifier_features [--clips 1000] [--repeats 2] [--record]

The full-size classifier (the few-shot CNN + 2-layer LSTM(256), randomly initialised: the weights do not
change the cost) over clips of 0.5-5 s (5-50 frames of 1600 samples, uniform), as `Classifier.features`
runs it: JAX through `exvo_jax.recognition.inference.hidden_clips` (batches of 32 read shortest first,
padded to bucket lengths, compiled once per bucket); PyTorch (`benchmarks.torch_reference.fewshot`, the
same weights) over the clips sorted by length in batches of 32 padded to their longest clip, in eval mode
under `torch.no_grad`. Both are timed in the same run, alternately, best of `--repeats`, JAX after a
warm-up pass (compilation excluded). The features of the two are compared (largest absolute difference).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np
import torch

from benchmarks.results_file import record_section
from benchmarks.torch_reference.fewshot import TorchCnnLstm, last_valid, load_flax_params
from exvo_jax.recognition.settings import RecognitionSettings
from exvo_jax.recognition.inference import hidden_clips
from exvo_jax.recognition.training import build_model, init_state

SECTION = "## classifier_features"
BATCH = 32


def torch_features(model: TorchCnnLstm, frames: list[np.ndarray], batch: int = BATCH) -> np.ndarray:
    """Top LSTM output at the last valid frame `[N, H]`, batches of clips sorted by length."""
    order = np.argsort([len(f) for f in frames], kind="stable")
    out = np.zeros((len(frames), model.lstm.hidden_size), np.float32)
    with torch.no_grad():
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            longest = max(len(frames[i]) for i in rows)
            x = np.zeros((len(rows), longest, frames[rows[0]].shape[1]), np.float32)
            for r, i in enumerate(rows):
                x[r, :len(frames[i])] = frames[i]
            lengths = torch.tensor([len(frames[i]) for i in rows])
            hidden = model.lstm(model.encode(torch.from_numpy(x)))[0]  # [B, T, H]
            out[rows] = last_valid(hidden, lengths).numpy()
    return out


def machine() -> str:
    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"backend {jax.default_backend()}; python {platform.python_version()}, jax {jax.__version__}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads); "
            f"load average {os.getloadavg()[0]:.1f} at the end of the run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    config = RecognitionSettings()
    model = build_model(config)
    _, record = init_state(model, config)
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    reference = load_flax_params(TorchCnnLstm(config.model.hidden), variables).eval()
    rng = np.random.default_rng(0)
    frames = [rng.normal(scale=0.1, size=(int(n), 1600)).astype(np.float32)
              for n in rng.integers(5, 51, size=args.clips)]

    def run_jax():
        return hidden_clips(model, variables, frames, batch_size=BATCH, buckets=tuple(config.buckets))[0]

    run_jax()  # compilation
    ours, theirs = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        mine = run_jax()
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference_features = torch_features(reference, frames)
        theirs.append(time.perf_counter() - start)
    ours_s, theirs_s = min(ours), min(theirs)
    error = float(np.max(np.abs(mine - reference_features)))
    seconds = sum(len(f) for f in frames) * 0.1
    print(f"{args.clips} clips ({seconds / 60:.1f} min of audio): JAX {ours_s:.2f} s, PyTorch {theirs_s:.2f} s, "
          f"JAX {theirs_s / ours_s:.2f}x the PyTorch speed; largest feature difference {error:.1e}")
    if args.record:
        lines = [SECTION, "", f"Machine: {machine()}.", "",
                 f"Features (H=256, top LSTM output at the last valid frame) of {args.clips} clips of 0.5-5 s "
                 f"({seconds / 60:.1f} min of audio), batches of {BATCH}, best of {args.repeats}:", "",
                 "| implementation | seconds | clips/s |", "|---|---|---|",
                 f"| JAX (`hidden_clips`, bucketed) | {ours_s:.2f} | {args.clips / ours_s:.0f} |",
                 f"| PyTorch reference | {theirs_s:.2f} | {args.clips / theirs_s:.0f} |", "",
                 f"JAX runs at {theirs_s / ours_s:.2f}x the PyTorch speed; the two agree to {error:.1e} "
                 "(largest absolute feature difference).", ""]
        record_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
