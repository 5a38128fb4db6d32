"""The demo's classifier-based Generate evaluation: the FID classifier, then Table 3's numbers.

`classifier_stage` trains the emotion classifier whose top-LSTM features the FID uses
(`exvo_jax.tracks.generate.evaluation`). `evaluation_stage` scores the submission wavs of the trained generator
and the same number of wavs from the untrained generator (the yardstick) against each emotion's real
Train clips: FID, FD-infinity, KID, the share the classifier recognises, the HEEP proxy and S_Gen; and
the FID matrix between emotions of real Train and Val clips (the paper's lower bound). An emotion with
too few real clips of intensity 1.0 for a statistic is left out of it (absent in the report), never
filled in.
"""

from __future__ import annotations

from pathlib import Path

import jax
import ml_collections

from exvo_jax.demo.generation import generate_config, untrained_sampler
from exvo_jax.tracks.generate.evaluation import load_classifier, reference_features, score_features, train_classifier
from exvo_jax.tracks.generate.evaluation.features import generated_sets
from exvo_jax.tracks.generate.evaluation.reference import emotion_clips
from exvo_jax.tracks.generate.evaluation.table3 import matrix_cells, train_val_matrix
from exvo_jax.tracks.generate.sampler import load_sampler
from exvo_jax.metrics.small_sample import MIN_KID_ROWS
from exvo_jax.submission import write_generated_clips

UNTRAINED = "untrained_submission"


def classifier_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains (resuming) the FID classifier; its held-out CCC and training history."""
    classifier = ml_collections.ConfigDict(config.classifier.to_dict())
    classifier.data_dir = corpus["path"]
    results = train_classifier(classifier, out / "fid_classifier", progress=progress)
    return {"workdir": str(out / "fid_classifier"), **{k: results[k] for k in (
        "held_out_ccc", "held_out_mean_ccc", "held_out_split", "best_epoch", "history")}}


def emotions_with(data_dir: str, split: str, least: int) -> list[str]:
    """Emotions with at least `least` real clips of intensity 1.0 in `split`."""
    return [e for e, clips in emotion_clips(data_dir, split).items() if len(clips) >= least]


def evaluation_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, gan: dict, progress: bool) -> dict:
    """Table 3's numbers for the trained and the untrained generator, and the Train-vs-Val FID matrix."""
    data_dir, classifier_dir = corpus["path"], str(out / "fid_classifier")
    classifier = load_classifier(classifier_dir)
    trained_sampler = load_sampler(gan["workdir"])
    scored = [e for e in emotions_with(data_dir, "Train", MIN_KID_ROWS) if e in trained_sampler.emotions]
    reference = reference_features(classifier, classifier_dir, data_dir, "Train", scored, progress=progress)
    gen = generate_config(config, corpus)
    untrained, key = untrained_sampler(gen, trained_sampler), jax.random.PRNGKey(gen.seed)
    folder = out / "generate" / UNTRAINED
    for emotion in scored:
        write_generated_clips(folder, {emotion: list(untrained.waves(emotion, config.generate_clips, key))},
                              clips_per_emotion=config.generate_clips)
    scores = {}
    for name, submission in (("trained", gan["submission"]), ("untrained", folder)):
        sets = generated_sets(submission)
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
        "generated_per_emotion": int(config.generate_clips),
        "reference_per_emotion": {e: int(len(f)) for e, f in reference.items()},
    }

