"""Generate-track benchmark: one MSG-GAN training step, JAX against the PyTorch reference in the same run.

    .venv/bin/python -m benchmarks.generate [--repeats 3] [--record] [--gpu]

The step is the trainer's own iteration (`exvo_jax.tracks.generate.steps.adam_iteration`), the baseline's: Adam (betas (0, 0.99)) on G with the RaHinge loss, EMA of G (0.999), then
Adam on D with fakes of the updated G from the same latents; real inputs are the mel's average-pooled
pyramid, D runs on real and fake separately (own minibatch statistic). Timed at depth 5 with the
reference's latent 512 (a 32x128 mel), batch 8: JAX jitted with the state donated, PyTorch
(`benchmarks.torch_reference.msg_gan`, 2 threads) on CPU, best of `--repeats`, alternating so that both
see the same load. Peak memory of a depth-7 (128x512) batch-32 step is read from the compiled JAX
program's memory analysis (no execution; one such PyTorch step takes minutes on a CPU, so PyTorch's is
not measured). `--gpu` times the depth-7 batch-32 step on one GPU for both, where one is present.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks.results_file import RESULTS, record_section
from exvo_jax.tracks.generate.program import CPU_COMPILER_OPTIONS
from exvo_jax.tracks.generate.state import GanState
from exvo_jax.tracks.generate.steps import adam_iteration
from exvo_jax.models.msg_gan import MSGGAN, mel_pyramid, msg_gan, scale_shapes

SECTION = "## generate"
G_LR, D_LR, BETAS, EMA_DECAY = 0.003, 0.0003, (0.0, 0.99), 0.999
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}  # tests: ~10x faster compile


def adam(learning_rate: float, eps: float = 1e-8) -> optax.GradientTransformation:
    return optax.adam(learning_rate, b1=BETAS[0], b2=BETAS[1], eps=eps)


def init_state(g_params, d_params, g_tx, d_tx) -> GanState:
    """A training state holding the given weights (the trainer's `GanState`; its key is unused here)."""
    return GanState(g_params=g_params, d_params=d_params, ema_params=jax.tree.map(jnp.copy, g_params),
                    g_opt_state=g_tx.init(g_params), d_opt_state=d_tx.init(d_params),
                    step=jnp.zeros([], jnp.int32), rng=jax.random.PRNGKey(0))


def baseline_step(gan: MSGGAN, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation,
                  ema_decay: float = EMA_DECAY, donate: bool = True, compiler_options: dict | None = None):
    """Jitted `step(state, mel [B, H, W, 1], z [B, L]) -> (state, {'g_loss', 'd_loss'})`: the trainer's own
    iteration (`exvo_jax.tracks.generate.steps.adam_iteration`: G step, EMA, D step) on a given mel and latents.

    `compiler_options` go to XLA (`CPU_COMPILER_OPTIONS` on CPU, as the trainer sets them; `FAST_COMPILE` in tests).
    """
    iterate = adam_iteration(gan, g_tx, d_tx, ema_decay)

    def step(state: GanState, mel: jax.Array, z: jax.Array):
        return iterate(state, (mel_pyramid(mel, gan.generator.depth), None, z))

    return jax.jit(step, donate_argnums=(0,) if donate else (), compiler_options=compiler_options)


def param_shapes(gan: MSGGAN) -> tuple[Any, Any]:
    """`ShapeDtypeStruct` trees of G's and D's params."""
    g, d = gan
    z = jax.ShapeDtypeStruct((2, g.latent_size), jnp.float32)
    scales = [jax.ShapeDtypeStruct((2, h, w, 1), jnp.float32) for h, w in scale_shapes(g.depth, g.base_shape)]
    return (jax.eval_shape(g.init, jax.random.key(0), z)["params"],
            jax.eval_shape(d.init, jax.random.key(0), scales)["params"])


def random_params(gan: MSGGAN, seed: int = 0, random_biases: bool = True) -> tuple[Any, Any]:
    """G's and D's params as numpy N(0, 1) kernels (the equalised-lr init) and N(0, 1) or zero biases."""
    rng = np.random.default_rng(seed)

    def fill(path, s):
        if path[-1].key == "bias" and not random_biases:
            return np.zeros(s.shape, np.float32)
        return rng.normal(size=s.shape).astype(np.float32)

    return jax.tree_util.tree_map_with_path(fill, param_shapes(gan))


def inputs(depth: int, latent: int, batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    height, width = scale_shapes(depth)[-1]
    return (rng.normal(size=(batch, height, width, 1)).astype(np.float32),
            rng.normal(size=(batch, latent)).astype(np.float32))


def jax_program(depth: int, latent: int, batch: int, seed: int = 0, compiler_options: dict | None = None):
    """(step, state, mel, z) on the default device, initialised as the baseline (zero biases)."""
    gan = msg_gan(depth=depth, latent_size=latent)
    g_params, d_params = random_params(gan, seed, random_biases=False)
    g_tx, d_tx = adam(G_LR), adam(D_LR)
    state = jax.device_put(init_state(g_params, d_params, g_tx, d_tx))
    mel, z = (jax.device_put(x) for x in inputs(depth, latent, batch))
    return baseline_step(gan, g_tx, d_tx, compiler_options=compiler_options), state, mel, z


def torch_program(depth: int, latent: int, batch: int, seed: int = 0, device: str = "cpu"):
    """(TorchGAN, mel [B, 1, H, W], z) with the same weights as `jax_program`."""
    import torch

    from benchmarks.torch_reference.msg_gan import TorchGAN, load_flax_params

    gan = TorchGAN(depth, latent)
    g_params, d_params = random_params(msg_gan(depth=depth, latent_size=latent), seed, random_biases=False)
    load_flax_params(gan.g, gan.d, g_params, d_params)
    gan.sync_ema()
    for module in (gan.g, gan.d, gan.g_ema):
        module.to(device)
    gan.g_opt = torch.optim.Adam(gan.g.parameters(), lr=G_LR, betas=BETAS, eps=1e-8)
    gan.d_opt = torch.optim.Adam(gan.d.parameters(), lr=D_LR, betas=BETAS, eps=1e-8)
    mel, z = inputs(depth, latent, batch)
    return gan, torch.from_numpy(mel).permute(0, 3, 1, 2).contiguous().to(device), torch.from_numpy(z).to(device)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_cpu_step(depth: int, latent: int, batch: int, repeats: int) -> dict:
    import torch

    torch.set_num_threads(2)
    with jax.default_device(jax.devices("cpu")[0]):
        step, state, mel, z = jax_program(depth, latent, batch, compiler_options=CPU_COMPILER_OPTIONS)
    cost = step.lower(state, mel, z).compile().cost_analysis()
    holder = [state]

    def jax_step():
        holder[0], metrics = step(holder[0], mel, z)
        jax.block_until_ready(metrics)

    reference, tmel, tz = torch_program(depth, latent, batch)
    jax_step()  # compilation
    reference.train_step(tmel, tz)  # warm-up
    ours, theirs = [], []
    for _ in range(repeats):  # alternating, so that both see the same load
        ours.append(_seconds(jax_step))
        theirs.append(_seconds(lambda: reference.train_step(tmel, tz)))
    return {"jax": min(ours), "torch": min(theirs), "jax_all": ours, "torch_all": theirs, "flops": cost["flops"]}


def jax_memory(depth: int, latent: int, batch: int) -> dict:
    """Bytes of the compiled depth-`depth` step from XLA's memory analysis (compiled, not run)."""
    gan = msg_gan(depth=depth, latent_size=latent)
    g_tx, d_tx = adam(G_LR), adam(D_LR)
    shapes = param_shapes(gan)
    state = jax.eval_shape(lambda g, d: init_state(g, d, g_tx, d_tx), *shapes)
    height, width = scale_shapes(depth)[-1]
    mel = jax.ShapeDtypeStruct((batch, height, width, 1), jnp.float32)
    z = jax.ShapeDtypeStruct((batch, latent), jnp.float32)
    step = baseline_step(gan, g_tx, d_tx, compiler_options=CPU_COMPILER_OPTIONS if jax.default_backend() == "cpu" else None)
    analysis = step.lower(state, mel, z).compile().memory_analysis()
    sizes = {name: int(getattr(analysis, f"{name}_size_in_bytes")) for name in ("temp", "argument", "output", "alias")}
    sizes["total"] = sizes["temp"] + sizes["argument"] + sizes["output"]
    return sizes


def bench_gpu(depth: int, latent: int, batch: int, repeats: int) -> dict:
    """Best step times on one GPU, `{'jax' | 'torch': (seconds, device name)}` for each that sees a GPU."""
    import torch

    results = {}
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if gpus:
        with jax.default_device(gpus[0]):
            step, state, mel, z = jax_program(depth, latent, batch)
        holder = [state]

        def jax_step():
            holder[0], metrics = step(holder[0], mel, z)
            jax.block_until_ready(metrics)

        jax_step()  # compilation
        results["jax"] = (min(_seconds(jax_step) for _ in range(repeats)), gpus[0].device_kind)
    if torch.cuda.is_available():
        reference, tmel, tz = torch_program(depth, latent, batch, device="cuda")
        reference.train_step(tmel, tz)  # warm-up; the step returns float losses, so it synchronises
        seconds = min(_seconds(lambda: reference.train_step(tmel, tz)) for _ in range(repeats))
        results["torch"] = (seconds, torch.cuda.get_device_name(0))
    return results


def _environment() -> str:
    import torch

    return (f"{platform.platform()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
            f"backend {jax.default_backend()}; python {platform.python_version()}, jax {jax.__version__}, "
            f"optax {optax.__version__}, torch {torch.__version__} (2 threads); "
            f"load average {os.getloadavg()[0]:.1f} at the end of the run")


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def format_results(args, cpu: dict, memory: dict, gpu) -> str:
    ratio = cpu["torch"] / cpu["jax"]
    lines = [
        SECTION, "",
        f"MSG-GAN baseline training step (Adam betas (0, 0.99): G step, EMA, then D step on the same latents; RaHinge; "
        f"D on real and fake separately). CPU timing at depth {args.depth}, latent {args.latent} (a "
        f"{'x'.join(map(str, scale_shapes(args.depth)[-1]))} mel), batch {args.batch}: best of {args.repeats} "
        f"alternating runs after warm-up; JAX jitted with the state donated vs the PyTorch reference "
        f"(`benchmarks/torch_reference/msg_gan.py`).",
        f"Machine: {_environment()}.", "",
        "| measure | exvo_jax | PyTorch | ratio (PyTorch / exvo_jax) |",
        "|---|---|---|---|",
        f"| train step, depth {args.depth}, batch {args.batch} (CPU) | {cpu['jax']:.2f} s | "
        f"{cpu['torch']:.2f} s | {ratio:.2f}x |",
    ]
    lines.append(f"| peak memory, depth 7, batch {args.memory_batch} | {_gib(memory['total'])} "
                 f"(temp {_gib(memory['temp'])} + arguments {_gib(memory['argument'])} + outputs "
                 f"{_gib(memory['output'])}; {_gib(memory['alias'])} of the outputs alias the donated "
                 f"arguments) | not measured | |")
    if gpu:
        for name, label in (("jax", "exvo_jax"), ("torch", "PyTorch")):
            if name in gpu:
                lines.append(f"| GPU step, depth 7, batch {args.memory_batch}, {label} ({gpu[name][1]}) | "
                             f"{gpu[name][0] * 1e3:.1f} ms | | |")
    lines += ["", f"All CPU runs (s): exvo_jax {', '.join(f'{t:.2f}' for t in cpu['jax_all'])}; PyTorch "
              f"{', '.join(f'{t:.2f}' for t in cpu['torch_all'])}. XLA's cost analysis counts "
              f"{cpu['flops'] / 1e12:.2f} TFLOP per step ({cpu['flops'] / cpu['jax'] / 1e9:.0f} GFLOP/s at the "
              "best JAX time). The memory figure is the compiled program's (arguments are the donated state and the "
              "batch, aliased with the outputs); absolute times move with the machine's background load, the ratio "
              "is from the same run.",
              ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--latent", type=int, default=512)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--memory-batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="also time the depth-7 step on one GPU, where present")
    parser.add_argument("--record", action="store_true", help="write the results section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    cpu = bench_cpu_step(args.depth, args.latent, args.batch, args.repeats)
    print(f"train step (depth {args.depth}, batch {args.batch}): exvo_jax {cpu['jax']:.2f} s | "
          f"PyTorch {cpu['torch']:.2f} s | ratio {cpu['torch'] / cpu['jax']:.2f}x")
    memory = jax_memory(7, 512, args.memory_batch)
    print(f"depth-7 batch-{args.memory_batch} step, compiled memory: temp + arguments + outputs "
          f"{_gib(memory['total'])} (temp {_gib(memory['temp'])}, arguments {_gib(memory['argument'])}, "
          f"outputs {_gib(memory['output'])}, of which aliased {_gib(memory['alias'])})")
    gpu = None
    if args.gpu:
        gpu = bench_gpu(7, 512, args.memory_batch, args.repeats)
        if not gpu:
            print("--gpu: no GPU available to JAX or PyTorch; GPU timings skipped")
        for name, (seconds, kind) in gpu.items():
            print(f"GPU step (depth 7, batch {args.memory_batch}) {name} on {kind}: {seconds * 1e3:.1f} ms")
    if args.record:
        record_section(SECTION, format_results(args, cpu, memory, gpu))
        print(f"recorded in {RESULTS}")


if __name__ == "__main__":
    main()
