"""The demo's Generate stages: the FID classifier, the conditional mel GAN with its submission wavs, and their
evaluation, all through the Generate track's surface.

`classifier_stage` trains the emotion classifier whose top-LSTM features the FID uses; `gan_stage` trains
the GAN (resuming) and samples `generate_clips` wavs per emotion in the submission layout;
`evaluation_stage` measures the trained generator against its untrained self and the real clips
(`exvo_jax.tracks.generate.assessment`: band-statistics distances, Figure 2's mels, Table 3's numbers).
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.demo.recognition import track_config
from exvo_jax.tracks import generate


def classifier_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains (resuming) the FID classifier; its held-out CCC and training history."""
    settings = generate.classifier_settings(track_config(config.classifier, corpus))
    results = generate.train_classifier(settings, out / "fid_classifier", progress=progress)
    return {"workdir": str(out / "fid_classifier"), **{k: results[k] for k in (
        "held_out_ccc", "held_out_mean_ccc", "held_out_split", "best_epoch", "history")}}


def gan_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains the GAN (resuming) and writes `generate_clips` wavs per emotion in the submission layout."""
    workdir = out / "generate"
    summary = generate.train(generate.settings(track_config(config.generate, corpus)), workdir, progress=progress)
    folder = out / "submissions" / "generate"
    paths = generate.predict(workdir, folder, None, config.generate_clips, seed=config.generate.seed)
    return {"workdir": str(workdir), "step": int(summary["step"]), "submission": str(folder), "clips": len(paths)}


def evaluation_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, gan: dict, progress: bool) -> dict:
    """`{"band_fd", "evaluation"}`: the trained generator against the untrained one and the real clips."""
    return generate.evaluate(generate.settings(track_config(config.generate, corpus)), gan["workdir"],
                             out / "fid_classifier", gan["submission"], clips=config.generate_clips,
                             figure_clips=config.figure_clips, progress=progress)
