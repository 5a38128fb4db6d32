"""`train(settings, workdir)`: Train log-mels -> every model in one compiled program -> previews, export.

The per-emotion GANs (or the one conditional GAN) train in chunks of `log_every` iterations, each chunk one
call of `exvo_jax.tracks.generate.program.chunk_program`. Between chunks the host checks that every loss is
finite (a NaN or inf stops the run), logs the losses, reports a discriminator whose loss collapsed to 0,
and at their cadences saves a checkpoint, exports the EMA generators (`model/`, what `sample` reads) and
writes previews. The workdir belongs to the run layer: re-running the same command resumes from the last
checkpoint and ends where an uninterrupted run would (iteration t's batch and noise depend only on t).

Several processes (`jax.distributed`) run this same code on a shared workdir; each computes the log-mels
itself, process 0 alone writes previews and logs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import numpy as np
from tqdm.auto import tqdm

from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS
from exvo_jax.tracks.generate.band_stats import band_frechet
from exvo_jax.tracks.generate.condition import emotion_conditions
from exvo_jax.tracks.generate.data import CONDITIONAL, input_files, load_pool, model_rows, real_examples, train_clips
from exvo_jax.tracks.generate.previews import write_preview
from exvo_jax.tracks.generate.program import (chunk_program, init_states, iterations_per_call, model_keys, model_strategy,
                                       stacked_rows)
from exvo_jax.tracks.generate.sampler import model_meta, sampler_from
from exvo_jax.tracks.generate.state import Hyper
from exvo_jax.models.msg_gan import MSGGAN, msg_gan
from exvo_jax.parallel import describe_runtime, format_runtime, mesh_from_config, place, replicated, sharded, to_host
from exvo_jax.run import Run, data_fingerprint, export_model, open_run
from exvo_jax.run.stacked import first, restore_stacked, save_stacked
from exvo_jax.settings import pick
from exvo_jax.tracks.generate.config import WATCH, GenerateSettings

log = logging.getLogger(__name__)

RESULTS_JSON = "results.json"


def hyper_from(settings: GenerateSettings) -> Hyper:
    return pick(Hyper, settings)


def gan_from(settings: GenerateSettings) -> MSGGAN:
    return msg_gan(depth=settings.model.depth, latent_size=settings.model.latent_size,
                   channels=tuple(settings.model.channels) or None,
                   num_classes=NUM_EMOTIONS if settings.mode == CONDITIONAL else 0)


def run_mesh(settings: GenerateSettings):
    """The models over `seeds`, each mini-batch over `data` (`settings.mesh`)."""
    return mesh_from_config({"seeds": settings.mesh["seeds"], "data": settings.mesh["data"]},
                            [(settings.batch_size, "data", "batch_size")])


def train(settings: GenerateSettings, workdir: str | Path, *, overwrite: bool = False, progress: bool = True) -> dict:
    """Trains the run of `settings` in `workdir` to `settings.steps` iterations (resuming); returns its summary."""
    clips = train_clips(settings)
    pool = load_pool(settings, clips, progress=progress and jax.process_index() == 0)
    rows = model_rows(settings, pool)
    mesh = run_mesh(settings)
    with open_run(workdir, settings, data_fingerprint(input_files(settings, clips)), overwrite=overwrite,
                  watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("generate: %s", format_runtime(runtime))
        run.log_event("runtime", **runtime, models=list(rows.names), clips=int(len(clips)))
        return fit(settings, run, pool, rows, mesh, progress)


def fit(settings: GenerateSettings, run: Run, pool, rows, mesh, progress: bool) -> dict:
    gan, hyper, count = gan_from(settings), hyper_from(settings), len(rows.names)
    identities = [NUM_EMOTIONS if name == CONDITIONAL else EMOTIONS.index(name) for name in rows.names]
    fresh = init_states(gan, hyper, model_keys(settings.seed, identities), mesh)
    step, restored, _ = restore_stacked(
        run, lambda layout: jax.tree.map(lambda x: np.zeros((layout["models"], *x.shape[1:]), x.dtype), fresh),
        mesh, "seeds")
    step, states = (0, fresh) if step is None else (step, restored)
    index, counts = stacked_rows(rows.index, rows.counts, mesh.shape["seeds"])
    on_mesh = [place(a, sharded(mesh, "seeds")) for a in (index, counts)]
    pool_arrays = place((pool.mels, pool.conditions), replicated(mesh))
    real = {e: real_examples(pool, rows, e, max(settings.fd_samples, settings.grid_columns))
            for e in (EMOTIONS if rows.names == (CONDITIONAL,) else rows.names)}
    conditions = emotion_conditions(pool.intensities, settings.condition) if rows.names == (CONDITIONAL,) else None
    summary = {"names": list(rows.names), "band_fd": {}}
    bar = tqdm(total=settings.steps, initial=step, unit="it", desc="generate",
               disable=not progress or not run.is_primary)
    per_call = iterations_per_call(settings.log_every)
    strategy = model_strategy(settings.strategy, index.shape[0] // mesh.shape["seeds"])
    while step < settings.steps:
        chunk, calls = min(settings.log_every, settings.steps - step), []
        for start in range(0, chunk, per_call):
            program = chunk_program(gan, hyper, min(per_call, chunk - start), strategy, mesh)
            states, metrics = program(states, pool_arrays, *on_mesh)
            calls.append(metrics)
        step += chunk
        calls = to_host(calls)
        losses = {name: np.concatenate([m[name] for m in calls], axis=1)[:count] for name in calls[0]}  # [S, chunk]
        summary["losses"] = record_losses(run, step, rows.names, losses, settings.collapse_threshold)
        bar.update(chunk)
        bar.set_postfix(g=f"{losses['g_loss'][:, -1].mean():.3f}", d=f"{losses['d_loss'][:, -1].mean():.3f}")
        last = step == settings.steps
        save = step % settings.checkpoint_every == 0 or last
        preview = settings.sample_every > 0 and (step % settings.sample_every == 0 or last)
        if save or preview:
            ema = to_host(first(states.ema_params, count))
            meta = model_meta(settings, rows.names, step, conditions=conditions)
            sampler = sampler_from(meta, ema)
        if save:
            save_stacked(run, step, states, count)
            export_model(run.workdir, {"ema_params": ema}, meta)
        if preview and run.is_primary:
            write_preview(run.workdir, step, sampler, {e: m[:settings.grid_columns] for e, m in real.items()},
                          settings.grid_columns, settings.audio_per_emotion, settings.seed, settings.keep_samples)
            if settings.fd_samples:
                summary["band_fd"] = record_band_fd(run, step, sampler, real, settings)
    bar.close()
    paths = {"model": str(run.workdir / "model")}
    if settings.sample_every:
        paths["samples"] = str(run.workdir / "samples")
    summary.update(step=step, paths=paths)
    run.write_json(RESULTS_JSON, summary)
    return {**summary, "states": states}


def record_losses(run: Run, step: int, names, losses: dict, threshold: float) -> dict:
    """Logs the chunk's mean losses per model; raises on a non-finite loss; warns of collapsed discriminators."""
    for name, value in losses.items():
        bad = [n for n, row in zip(names, value) if not np.all(np.isfinite(row))]
        if bad:
            raise FloatingPointError(f"non-finite {name} by iteration {step} for {', '.join(bad)}")
    means = {name: value.mean(axis=1) for name, value in losses.items()}  # [S]
    collapsed = [n for n, d in zip(names, means["d_loss"]) if d < threshold]
    scalars = {name: float(value.mean()) for name, value in means.items()}
    if len(names) > 1:
        scalars.update({f"{name}/{n}": float(v) for name, value in means.items() for n, v in zip(names, value)})
    run.log_metrics(step, **scalars, d_collapsed=len(collapsed))
    if collapsed:
        log.warning("discriminator loss collapsed to ~0 (mean below %g over the last %d iterations) at iteration %d "
                    "for %s: D separates real from fake outright and G gets no useful gradient",
                    threshold, losses["d_loss"].shape[1], step, ", ".join(collapsed))
        run.log_event("d_collapse", step=step, models=collapsed)
    return {name: dict(zip(names, map(float, value))) for name, value in means.items()}


def record_band_fd(run: Run, step: int, sampler, real: dict, settings) -> dict:
    """Band-statistics Frechet distance of `fd_samples` EMA samples to each emotion's real clips (logged)."""
    key = jax.random.fold_in(jax.random.PRNGKey(settings.seed + 1), step)
    fd = {e: band_frechet(sampler.mels(e, settings.fd_samples, key), m) for e, m in real.items() if len(m) > 1}
    run.log_metrics(step, **{f"band_fd/{e}": v for e, v in fd.items()})
    return fd


def report_data(workdir: str | Path) -> dict:
    """The summary a finished `train` wrote in `workdir` (`results.json`): models, losses, iterations, paths."""
    path = Path(workdir) / RESULTS_JSON
    if not path.exists():
        raise DataError(f"{path}: missing; run `exvo-jax generate train` with this workdir first")
    return json.loads(path.read_text())
