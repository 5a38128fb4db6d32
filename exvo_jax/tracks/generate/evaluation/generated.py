"""Scores of generated clips per targeted emotion: FID / FD-infinity / KID to that emotion's real clips,
how often the classifier recognises the target, HEEP (human ratings or the classifier's proxy) and S_Gen.

`score_features` works on classifier outputs already computed (e.g. of waveforms from a live sampler);
`score_folder(classifier_dir, generated_dir, data_dir)` reads a generation submission folder
(`<Emotion>/*.wav`) and compares it with the real clips of `split` (Train by default: what the GANs learnt).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks.generate.evaluation.distances import frechet_report
from exvo_jax.tracks.generate.evaluation.features import generated_sets, load_classifier
from exvo_jax.tracks.generate.evaluation.heep import HUMAN, PROXY, heep_scores, proxy_ratings, read_ratings, s_gen_scores
from exvo_jax.tracks.generate.evaluation.reference import reference_features


def score_features(reference: Mapping[str, np.ndarray], features: Mapping[str, np.ndarray],
                   outputs: Mapping[str, np.ndarray], ratings: Mapping[str, np.ndarray] | None = None,
                   source: str = PROXY, seed: int = 0) -> dict:
    """Scores of the generated sets `features[e]` `[N_e, H]` (classifier `outputs[e]` `[N_e, 10]`) against
    `reference[e]` `[M_e, H]`. HEEP uses `ratings[e]` `[N_e, 10]` (labelled `source`) or, when None, the
    classifier's proxy ratings.

    Returns `{"distances": {e: frechet_report}, "pooled": frechet_report of all generated clips against all
    the emotions' real clips, "recognised": {e: share whose top output is e}, "mean_recognised",
    "heep_source", "per_emotion": {e: {"fid", "heep", "s_gen"}}, "mean_s_gen"}`. The pooled distance
    rests on ten times the clips of a per-emotion one, so its small-sample bias is smaller.
    """
    emotions = list(features)
    if ratings is None:
        ratings, source = {e: proxy_ratings(outputs[e]) for e in emotions}, PROXY
    distances = {e: frechet_report(features[e], reference[e], seed=seed) for e in emotions}
    recognised = {e: float(np.mean(np.argmax(outputs[e], axis=1) == EMOTIONS.index(e))) for e in emotions}
    targets = [e for e in emotions for _ in range(len(features[e]))]
    heep = heep_scores(targets, np.concatenate([ratings[e] for e in emotions]))
    pooled = frechet_report(np.concatenate([features[e] for e in emotions]),
                            np.concatenate([reference[e] for e in emotions]), seed=seed)
    return {"distances": distances, "pooled": pooled, "recognised": recognised, "mean_recognised": float(np.mean(list(recognised.values()))),
            **s_gen_scores({e: d["fid"] for e, d in distances.items()}, heep, source)}


def score_folder(classifier_dir: str | Path, generated_dir: str | Path, data_dir: str | Path, *,
                 split: str = "Train", ratings_csv: str | Path | None = None, progress: bool = False) -> dict:
    """`score_features` of the generation submission in `generated_dir`, with the classifier of `classifier_dir`
    and the real clips of `split` in `data_dir`; HEEP from `ratings_csv` when given (see `heep.read_ratings`)."""
    classifier = load_classifier(classifier_dir)
    sets = generated_sets(generated_dir)
    reference = reference_features(classifier, classifier_dir, data_dir, split, list(sets), progress=progress)
    computed = {e: classifier.file_features(paths, progress=progress) for e, paths in sets.items()}
    ratings = None
    if ratings_csv is not None:
        files = [p for paths in sets.values() for p in paths]
        table, start = read_ratings(ratings_csv, files), 0
        ratings = {}
        for e, paths in sets.items():
            ratings[e], start = table[start:start + len(paths)], start + len(paths)
    result = score_features(reference, {e: f for e, (f, _) in computed.items()},
                            {e: o for e, (_, o) in computed.items()}, ratings,
                            source=f"{HUMAN} ({Path(ratings_csv).name})" if ratings_csv else PROXY)
    return {**result, "split": split, "classifier_key": classifier.key}
