"""A trained generator judged against its untrained self and the real clips: what the report's Table 3 shows.

`evaluate(settings, workdir, classifier_dir, submission, clips=...)` measures, for the run in `workdir`:

* in the fixed band-statistics feature space (`band_stats`; no trained network): each emotion's Frechet
  distance of the EMA generator's samples to that emotion's real Train clips, the same for the untrained
  generator (the yardstick for "has it learnt"), and the matrix of every generated emotion against every
  real one; the real and generated log-mels of the report's Figure 2 are kept in `<workdir>/figure2.npz`;
* in the FID classifier's feature space (`evaluation`): the submission wavs in `submission` and as many
  wavs of the untrained generator scored against each emotion's real Train clips (FID, FD-infinity, KID,
  the share the classifier recognises, the HEEP proxy and S_Gen), and the FID matrix between emotions of
  real Train and Val clips (the paper's lower bound). An emotion with too few real clips of intensity
  1.0 for a statistic is left out of it (absent in the report), never filled in.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS
from exvo_jax.metrics.small_sample import MIN_KID_ROWS
from exvo_jax.parallel import to_host
from exvo_jax.run.stacked import first
from exvo_jax.submission import write_generated_clips
from exvo_jax.tracks.generate.band_stats import band_frechet, band_frechet_matrix
from exvo_jax.tracks.generate.condition import dominant_rows
from exvo_jax.tracks.generate.data import CONDITIONAL, load_pool, train_clips
from exvo_jax.tracks.generate.evaluation import load_classifier, reference_features, score_features
from exvo_jax.tracks.generate.evaluation.features import generated_sets
from exvo_jax.tracks.generate.evaluation.reference import emotion_clips
from exvo_jax.tracks.generate.evaluation.table3 import matrix_cells, train_val_matrix
from exvo_jax.tracks.generate.program import init_states, model_keys
from exvo_jax.tracks.generate.sampler import Sampler, load_sampler
from exvo_jax.tracks.generate.config import GenerateSettings
from exvo_jax.tracks.generate.training import gan_from, hyper_from

FIGURE = "figure2.npz"
UNTRAINED = "untrained_submission"


def untrained_sampler(settings: GenerateSettings, trained: Sampler) -> Sampler:
    """The trained run's generators as initialised (the same keys), sampled alike (its condition vectors too)."""
    identities = [NUM_EMOTIONS if name == CONDITIONAL else EMOTIONS.index(name) for name in trained.names]
    states = init_states(gan_from(settings), hyper_from(settings), model_keys(settings.seed, identities))
    return dataclasses.replace(trained, ema_params=to_host(first(states.ema_params, len(trained.names))))


def band_distances(settings: GenerateSettings, workdir: Path, figure_clips: int, progress: bool) -> dict:
    """Band-statistics Frechet distances of the trained and the untrained generator; Figure 2's mels."""
    pool = load_pool(settings, train_clips(settings), progress=progress)
    trained = load_sampler(workdir)
    untrained = untrained_sampler(settings, trained)
    rows = {e: dominant_rows(pool.intensities, e) for e in trained.emotions}
    real = {e: pool.mels[r] for e, r in rows.items() if len(r) > 1}
    key = jax.random.PRNGKey(settings.seed + 2)
    count = max(settings.fd_samples, 2)
    generated = {e: trained.mels(e, count, key) for e in real}
    initial = {e: untrained.mels(e, count, key) for e in real}
    with atomic_path(workdir / FIGURE) as tmp, open(tmp, "wb") as file:
        np.savez_compressed(
            file, emotions=np.array(list(real)),
            real=np.stack([pool.mels[np.resize(rows[e], figure_clips)] for e in real]),
            generated=np.stack([generated[e][:figure_clips] for e in real]),
            real_ids=np.array([[pool.file_ids[i] for i in np.resize(rows[e], figure_clips)] for e in real]))
    return {
        "samples_per_emotion": count,
        "emotions": list(real),
        "trained": {e: band_frechet(generated[e], m) for e, m in real.items()},
        "untrained": {e: band_frechet(initial[e], m) for e, m in real.items()},
        "matrix": band_frechet_matrix(generated, real).tolist(),
    }


def emotions_with(data_dir: str, split: str, least: int) -> list[str]:
    """Emotions with at least `least` real clips of intensity 1.0 in `split`."""
    return [e for e, clips in emotion_clips(data_dir, split).items() if len(clips) >= least]


def classifier_scores(settings: GenerateSettings, workdir: Path, classifier_dir: str | Path, submission: str | Path,
                      clips: int, progress: bool) -> dict:
    """Table 3's numbers for the trained generator's submission and the untrained one's, and the Train-vs-Val
    FID matrix, in the FID classifier's feature space."""
    data_dir = settings.data_dir
    classifier = load_classifier(classifier_dir)
    trained_sampler = load_sampler(workdir)
    scored = [e for e in emotions_with(data_dir, "Train", MIN_KID_ROWS) if e in trained_sampler.emotions]
    reference = reference_features(classifier, classifier_dir, data_dir, "Train", scored, progress=progress)
    untrained, key = untrained_sampler(settings, trained_sampler), jax.random.PRNGKey(settings.seed)
    folder = Path(workdir) / UNTRAINED
    for emotion in scored:
        write_generated_clips(folder, {emotion: list(untrained.waves(emotion, clips, key))}, clips_per_emotion=clips)
    scores = {}
    for name, generated in (("trained", submission), ("untrained", folder)):
        sets = generated_sets(generated)
        computed = {e: classifier.file_features(sets[e], progress=progress) for e in scored}
        scores[name] = score_features(reference, {e: f for e, (f, _) in computed.items()},
                                      {e: o for e, (_, o) in computed.items()})
    trained = scores["trained"]
    return {
        "emotions": scored,
        "fid": {e: d["fid"] for e, d in trained["distances"].items()},
        "fd_infinity": {e: d["fd_infinity"] for e, d in trained["distances"].items()},
        "kid": {e: d["kid"] for e, d in trained["distances"].items()},
        "recognised": trained["recognised"],
        "heep": {e: v["heep"] for e, v in trained["per_emotion"].items()},
        "heep_source": trained["heep_source"],
        "s_gen": {e: v["s_gen"] for e, v in trained["per_emotion"].items()},
        "mean_s_gen": trained["mean_s_gen"],
        "fid_untrained": {e: d["fid"] for e, d in scores["untrained"]["distances"].items()},
        "fid_matrix": matrix_cells(train_val_matrix(classifier, classifier_dir, data_dir, progress)),
        "generated_per_emotion": int(clips),
        "reference_per_emotion": {e: int(len(f)) for e, f in reference.items()},
    }


def evaluate(settings: GenerateSettings, workdir: str | Path, classifier_dir: str | Path, submission: str | Path, *,
             clips: int, figure_clips: int = 3, progress: bool = True) -> dict:
    """`{"band_fd": ..., "evaluation": ...}` of the run in `workdir` (see the module docstring); `submission` holds
    `clips` generated wavs per emotion, and Figure 2 shows `figure_clips` real and generated mels per emotion."""
    workdir = Path(workdir)
    return {"band_fd": band_distances(settings, workdir, figure_clips, progress),
            "evaluation": classifier_scores(settings, workdir, classifier_dir, submission, clips, progress)}
