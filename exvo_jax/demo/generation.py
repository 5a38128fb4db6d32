"""The demo's Generate stage: train the conditional mel GAN, sample the submission wavs, measure the samples.

Measured here, in the fixed band-statistics feature space (`exvo_jax.tracks.generate.band_stats`; no trained
network): each emotion's Frechet distance of the EMA generator's samples to that emotion's real Train
clips, the same for the untrained generator (the yardstick for "has it learnt"), and the matrix of
every generated emotion against every real one. The real and generated log-mels and clip names of the
report's Figure 2 are kept in `generate/figure2.npz`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import ml_collections
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS
from exvo_jax.tracks.generate import checkpoints
from exvo_jax.tracks.generate.band_stats import band_frechet, band_frechet_matrix
from exvo_jax.tracks.generate.condition import dominant_rows
from exvo_jax.tracks.generate.data import CONDITIONAL, load_pool, train_clips
from exvo_jax.tracks.generate.program import init_states, model_keys
from exvo_jax.tracks.generate.sampler import Sampler, load_sampler, write_submission
from exvo_jax.tracks.generate.train import gan_from, hyper_from, train_and_evaluate
from exvo_jax.parallel import to_host

FIGURE = "figure2.npz"


def generate_config(config: ml_collections.ConfigDict, corpus: dict) -> ml_collections.ConfigDict:
    gen = ml_collections.ConfigDict(config.generate.to_dict())
    gen.data_dir = corpus["path"]
    return gen


def gan_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains the GAN (resuming) and writes `generate_clips` wavs per emotion in the submission layout."""
    workdir = out / "generate"
    summary = train_and_evaluate(generate_config(config, corpus), workdir, progress=progress)
    folder = out / "submissions" / "generate"
    paths = write_submission(workdir, folder, None, config.generate_clips, seed=config.generate.seed)
    return {"workdir": str(workdir), "step": int(summary["step"]), "submission": str(folder), "clips": len(paths)}


def untrained_sampler(gen: ml_collections.ConfigDict, trained: Sampler) -> Sampler:
    """The trained run's generators as initialised (the same keys), sampled alike (its condition vectors too)."""
    identities = [NUM_EMOTIONS if name == CONDITIONAL else EMOTIONS.index(name) for name in trained.names]
    states = init_states(gan_from(gen), hyper_from(gen), model_keys(gen.seed, identities))
    return dataclasses.replace(trained, ema_params=to_host(checkpoints.first(states.ema_params, len(trained.names))))


def band_fd_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Band-statistics Frechet distances of the trained and the untrained generator; Figure 2's mels."""
    gen = generate_config(config, corpus)
    pool = load_pool(gen, train_clips(gen), progress=progress)
    trained = load_sampler(out / "generate")
    untrained = untrained_sampler(gen, trained)
    rows = {e: dominant_rows(pool.intensities, e) for e in trained.emotions}
    real = {e: pool.mels[r] for e, r in rows.items() if len(r) > 1}
    key = jax.random.PRNGKey(gen.seed + 2)
    count = max(gen.fd_samples, 2)
    generated = {e: trained.mels(e, count, key) for e in real}
    initial = {e: untrained.mels(e, count, key) for e in real}
    shown = config.figure_clips
    with atomic_path(out / "generate" / FIGURE) as tmp, open(tmp, "wb") as file:
        np.savez_compressed(
            file, emotions=np.array(list(real)),
            real=np.stack([pool.mels[np.resize(rows[e], shown)] for e in real]),
            generated=np.stack([generated[e][:shown] for e in real]),
            real_ids=np.array([[pool.file_ids[i] for i in np.resize(rows[e], shown)] for e in real]))
    return {
        "samples_per_emotion": count,
        "emotions": list(real),
        "trained": {e: band_frechet(generated[e], m) for e, m in real.items()},
        "untrained": {e: band_frechet(initial[e], m) for e, m in real.items()},
        "matrix": band_frechet_matrix(generated, real).tolist(),
    }
