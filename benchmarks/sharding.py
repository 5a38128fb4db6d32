"""Benchmark: sharding overhead of the trainers on CPU - 8 simulated devices vs 1, same global work.

Two trainers, each measured on a mesh of one CPU device and on a mesh of 8 simulated CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=8`), in separate child processes (the device count
is fixed when the backend starts), alternately, best of `--rounds`:
  * multitask: one epoch of the multi-seed program (`seeds.epoch_program`, `map` strategy) for 8 seeds
    on random eGeMAPS-sized rows (88-d), batch 8; one device runs all 8 seeds, the `seeds` mesh axis
    of 8 devices runs one seed per device (`shard_map`);
  * few-shot: the training step (`training.train_step_program`) on a global batch of 8 clips of 2 s;
    one device takes the whole batch, the `data` mesh axis of 8 devices one clip each, with the
    gradients reduced across devices and the state replicated.
The simulated devices share the same CPU cores, so the ratio measures the cost of partitioning and
collectives, not a speed-up: 1.0x means sharding is free, above 1 is overhead.
`--gpu` instead times, on one GPU, the JAX and PyTorch (`benchmarks.torch_reference`) train steps of
both trainers (absolute figures); it prints "no GPU available" where JAX sees no GPU.
Run: `python -m benchmarks.sharding [--rows 4000] [--rounds 3] [--record] [--gpu]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from benchmarks.results_file import RESULTS, record_section

SECTION = "## sharding"
DIM, BATCH, SEEDS, DEVICES = 88, 8, 8, 8
FRAMES = 20  # 2 s of 100 ms frames (1600 samples at 16 kHz)
TRAINERS = ("multitask", "fewshot")


def timed(fn) -> float:
    import jax

    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


def random_split(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, DIM)).astype(np.float32)
    labels = {
        "emotion": rng.uniform(size=(rows, 10)).astype(np.float32),
        "age": rng.uniform(18, 40, size=(rows,)).astype(np.float32),
        "country": rng.integers(0, 4, size=(rows,)).astype(np.int32),
    }
    return x, labels


def random_clips(seed: int = 1):
    from exvo_jax.recognition.training import FramedSet

    rng = np.random.default_rng(seed)
    return FramedSet([rng.normal(scale=0.1, size=(FRAMES, 1600)).astype(np.float32) for _ in range(BATCH)],
                     rng.uniform(size=(BATCH, 10)).astype(np.float32))


def child_multitask(devices: int, rows: int, repeats: int) -> dict:
    """Seconds of one epoch of SEEDS seeds (best of `repeats`, compilation excluded)."""
    import jax

    from exvo_jax.models.multitask import MultitaskNet, exvo_tasks
    from exvo_jax.parallel import make_mesh, one_device_mesh, replicated, sharded
    from exvo_jax.tracks.multitask import seeds
    from exvo_jax.parallel import place as put

    mesh = one_device_mesh() if devices == 1 else make_mesh({"seeds": devices, "data": 1})
    model = MultitaskNet(exvo_tasks())
    hyper = seeds.Hyper(batch_size=BATCH, max_epochs=repeats + 2)
    tx = seeds.optimizer(hyper)
    x, labels = random_split(rows)
    train = put((x, labels), replicated(mesh))
    val = put((x[:BATCH], {k: v[:BATCH] for k, v in labels.items()}), replicated(mesh))
    stopping = put(seeds.Stopping.create(patience=100, min_delta=0.0), replicated(mesh))
    states = put(seeds.init_states(model, tx, list(range(SEEDS)), DIM, hyper.max_epochs), sharded(mesh, "seeds"))
    program = seeds.epoch_program(model, hyper, "map", mesh, rows)
    states = jax.block_until_ready(program(states, train, val, stopping))  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        states = jax.block_until_ready(program(states, train, val, stopping))
        best = min(best, time.perf_counter() - start)
    assert bool(np.all(np.isfinite(np.asarray(states.train_loss)[:, :repeats + 1])))
    return {"seconds": best, "devices": len(mesh.devices.flat), "steps": SEEDS * -(-rows // BATCH)}


def child_fewshot(devices: int, hidden: int, repeats: int) -> dict:
    """Median seconds of one training step on a global batch of BATCH clips of 2 s (compilation excluded)."""
    import jax

    from exvo_jax.models.cnn_lstm import CnnLstm
    from exvo_jax.parallel import make_mesh
    from exvo_jax.recognition.training import device_batch, epoch_batches, init_state, train_step_program
    from exvo_jax.recognition.settings import NetworkSettings, RecognitionSettings

    mesh = make_mesh({"data": devices}, devices=jax.devices()[:devices])
    model = CnnLstm(hidden=hidden)
    state, _ = init_state(model, RecognitionSettings(model=NetworkSettings(hidden=hidden)), mesh)
    step = train_step_program(model, mesh)
    batch = device_batch(next(epoch_batches(random_clips(), BATCH, (FRAMES,), 0, 0)), mesh)
    state, loss = step(state, *batch)  # compile
    jax.block_until_ready(loss)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        state, loss = step(state, *batch)
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - start)
    assert np.isfinite(float(loss))
    return {"seconds": float(np.median(times)), "devices": len(mesh.devices.flat)}


def child_gpu(rows: int, hidden: int, repeats: int) -> dict:
    """Absolute train-step times on one GPU: JAX and the PyTorch references, both trainers."""
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        return {"gpu": None}
    import torch

    from benchmarks.torch_reference import fewshot as torch_fewshot
    from benchmarks.torch_reference import multitask as torch_multitask
    from exvo_jax.models.cnn_lstm import CnnLstm
    from exvo_jax.models.multitask import MultitaskNet, exvo_tasks
    from exvo_jax.parallel import make_mesh
    from exvo_jax.recognition.training import device_batch, epoch_batches, init_state, train_step_program
    from exvo_jax.recognition.settings import NetworkSettings, RecognitionSettings
    from exvo_jax.tracks.multitask import seeds

    out = {"gpu": gpus[0].device_kind}
    # multitask: one seed's epoch (one compiled lax.scan) per step vs the PyTorch loop per step
    mesh = make_mesh({"seeds": 1, "data": 1}, devices=gpus[:1])
    model = MultitaskNet(exvo_tasks())
    hyper = seeds.Hyper(batch_size=BATCH, max_epochs=repeats + 2)
    tx = seeds.optimizer(hyper)
    x, labels = random_split(rows)
    with jax.default_device(gpus[0]):
        train = jax.device_put((x, labels), gpus[0])
        val = jax.device_put((x[:BATCH], {k: v[:BATCH] for k, v in labels.items()}), gpus[0])
        stopping = seeds.Stopping.create(patience=100, min_delta=0.0)
        states = jax.device_put(seeds.init_states(model, tx, [0], DIM, hyper.max_epochs), gpus[0])
        program = seeds.epoch_program(model, hyper, "vmap", mesh, rows)
        states = jax.block_until_ready(program(states, train, val, stopping))
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            states = jax.block_until_ready(program(states, train, val, stopping))
            best = min(best, time.perf_counter() - start)
    steps = -(-rows // BATCH)
    out["multitask_jax"] = best / steps
    device = torch.device("cuda")
    net = torch_multitask.TorchMultitaskNet(DIM, [(t.name, t.kind, t.size) for t in model.tasks]).to(device)
    opt = torch_multitask.optimizer(net)
    tx_all = torch.from_numpy(x).to(device)
    ty_all = {k: torch.from_numpy(v).to(device) for k, v in labels.items()}
    torch_multitask.train_epoch(net, opt, tx_all, ty_all, BATCH)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        torch_multitask.train_epoch(net, opt, tx_all, ty_all, BATCH)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    out["multitask_torch"] = best / steps
    # few-shot: one training step, batch 8 of 2 s clips
    mesh = make_mesh({"data": 1}, devices=gpus[:1])
    fmodel = CnnLstm(hidden=hidden)
    state, _ = init_state(fmodel, RecognitionSettings(model=NetworkSettings(hidden=hidden)), mesh)
    step = train_step_program(fmodel, mesh)
    host_batch = next(epoch_batches(random_clips(), BATCH, (FRAMES,), 0, 0))
    batch = device_batch(host_batch, mesh)
    state, loss = step(state, *batch)
    jax.block_until_ready(loss)
    reference = torch_fewshot.TorchCnnLstm(hidden).to(device)
    optimizer = torch.optim.AdamW(reference.parameters(), lr=1e-3, weight_decay=0.01)
    frames = torch.from_numpy(host_batch[0]).to(device)
    lengths = torch.full((BATCH,), FRAMES)  # CPU, like the reference's own index tensor
    targets = torch.from_numpy(host_batch[2]).to(device)
    torch_fewshot.train_step(reference, optimizer, frames, lengths, targets)
    ours, theirs = [], []
    for _ in range(max(repeats, 5) * 4):  # interleaved
        start = time.perf_counter()
        state, loss = step(state, *batch)
        jax.block_until_ready(loss)
        ours.append(time.perf_counter() - start)
        torch.cuda.synchronize()
        start = time.perf_counter()
        torch_fewshot.train_step(reference, optimizer, frames, lengths, targets)  # returns a float: synchronises
        theirs.append(time.perf_counter() - start)
    out["fewshot_jax"], out["fewshot_torch"] = float(np.median(ours)), float(np.median(theirs))
    out["versions"] = f"jax {jax.__version__}, torch {torch.__version__}"
    return out


def run_child(kind: str, devices: int, args) -> dict:
    """Runs one measurement in a fresh process (`devices` simulated CPU devices) and returns its JSON."""
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    if kind != "gpu":
        env["JAX_PLATFORMS"] = "cpu"
        flags.append(f"--xla_force_host_platform_device_count={devices}")
    env["XLA_FLAGS"] = " ".join(flags)
    command = [sys.executable, "-m", "benchmarks.sharding", "--child", kind, "--devices", str(devices),
               "--rows", str(args.rows), "--hidden", str(args.hidden), "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"child {kind} on {devices} device(s) failed with exit status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(args) -> dict[str, dict[int, list[float]]]:
    """Times per (trainer, device count), one per round, over `args.rounds` alternating rounds."""
    results = {trainer: {1: [], DEVICES: []} for trainer in TRAINERS}
    for round_ in range(args.rounds):
        for trainer in TRAINERS:
            for devices in ((1, DEVICES) if round_ % 2 == 0 else (DEVICES, 1)):
                seconds = run_child(trainer, devices, args)["seconds"]
                results[trainer][devices].append(seconds)
                print(f"  round {round_ + 1}: {trainer} on {devices} device(s): {seconds:.3f} s", flush=True)
    return results


def environment() -> str:
    import jax

    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
            f"python {platform.python_version()}, jax {jax.__version__}; "
            f"load average {os.getloadavg()[0]:.1f} at the end of the run")


def describe(trainer: str, args) -> str:
    if trainer == "multitask":
        return f"multitask: one epoch, {SEEDS} seeds x {args.rows:,} rows (88-d), batch {BATCH}"
    return f"few-shot: train step, batch {BATCH} x 2 s clips (H={args.hidden})"


def table(results: dict, args) -> list[str]:
    lines = ["| trainer | 1 device | 8 simulated devices | overhead ratio (8 / 1) |", "|---|---|---|---|"]
    for trainer in TRAINERS:
        one, many = min(results[trainer][1]), min(results[trainer][DEVICES])
        unit, scale = ("s", 1) if trainer == "multitask" else ("ms", 1e3)
        lines.append(f"| {describe(trainer, args)} | {one * scale:.2f} {unit} | {many * scale:.2f} {unit} | "
                     f"{many / one:.2f}x |")
    return lines


def format_results(results: dict, args) -> str:
    lines = [
        SECTION, "",
        "Sharding overhead on CPU: each trainer on a mesh of 1 CPU device vs 8 simulated CPU devices "
        "(`--xla_force_host_platform_device_count=8`), same global work; multitask over the `seeds` axis "
        "(one seed per device), few-shot over the `data` axis (one clip of the global batch per device, "
        f"gradients all-reduced). Each device count runs in its own process; best of {args.rounds} alternating "
        f"rounds (multitask: best of {args.repeats} epochs per round; few-shot: median of {3 * args.repeats} steps).",
        f"Machine: {environment()}.", "",
        *table(results, args), "",
        "Every round's times (s), 1 device / 8 devices: " + "; ".join(
            f"{trainer} " + ", ".join(f"{a:.3f} / {b:.3f}"
                                      for a, b in zip(results[trainer][1], results[trainer][DEVICES]))
            for trainer in TRAINERS) + ".", "",
        "The 8 simulated devices share the same CPU cores, so this measures what partitioning and collectives "
        "cost, not a speed-up: 1.00x would be free sharding. Absolute times move with the background load; "
        "the ratios come from the same run; the spread between rounds shows how much of either figure is load."
        + (" A ratio below 1 is not sharding gain: the 8 simulated devices run their shards on concurrent threads "
           "and so can keep both cores busy, where one device running small operations may not."
           if any(min(r[DEVICES]) < min(r[1]) for r in results.values()) else ""), "", "",
    ]
    return "\n".join(lines)


def format_gpu(out: dict, rows: int, hidden: int) -> list[str]:
    return [
        f"One GPU ({out['gpu']}; {out['versions']}), absolute train-step times:", "",
        "| trainer | exvo_jax | PyTorch reference | ratio (PyTorch / exvo_jax) |", "|---|---|---|---|",
        f"| multitask step, batch {BATCH}, 88-d (from one epoch of {rows:,} rows) | "
        f"{out['multitask_jax'] * 1e3:.3f} ms | "
        f"{out['multitask_torch'] * 1e3:.3f} ms | {out['multitask_torch'] / out['multitask_jax']:.2f}x |",
        f"| few-shot step, batch {BATCH} x 2 s (H={hidden}) | {out['fewshot_jax'] * 1e3:.2f} ms | "
        f"{out['fewshot_torch'] * 1e3:.2f} ms | {out['fewshot_torch'] / out['fewshot_jax']:.2f}x |", "", "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="random training rows of the multitask epoch")
    parser.add_argument("--hidden", type=int, default=256, help="few-shot model width")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs (multitask) or steps x3 (few-shot)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of child processes")
    parser.add_argument("--gpu", action="store_true", help="absolute step times on one GPU, JAX and PyTorch")
    parser.add_argument("--record", action="store_true",
                        help="write the results section of benchmarks/RESULTS.md")
    parser.add_argument("--child", choices=(*TRAINERS, "gpu"), help=argparse.SUPPRESS)
    parser.add_argument("--devices", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "multitask":
        print(json.dumps(child_multitask(args.devices, args.rows, args.repeats)))
        return
    if args.child == "fewshot":
        print(json.dumps(child_fewshot(args.devices, args.hidden, 3 * args.repeats)))
        return
    if args.child == "gpu":
        print(json.dumps(child_gpu(args.rows, args.hidden, args.repeats)))
        return
    if args.gpu:
        out = run_child("gpu", 1, args)
        if out["gpu"] is None:
            print("no GPU available")
            return
        lines = format_gpu(out, args.rows, args.hidden)
        print("\n".join(lines))
        if args.record:
            record_section(SECTION + " (GPU)", "\n".join([SECTION + " (GPU)", "", *lines]))
            print(f"recorded in {RESULTS}")
        return
    results = measure(args)
    print("\n".join(table(results, args)))
    print("(simulated CPU devices share the same cores: the ratio is partitioning/collective overhead, not speed-up)")
    if args.record:
        record_section(SECTION, format_results(results, args))
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
