"""The demo on a nonverbal-vocalisation corpus: its check and its few-shot stage.

The corpus (`exvo_jax.data.nonverbal`) labels vocalisation type, age and sex but no emotion intensities.
The demo runs the multitask track on it (`config.nonverbal.multitask`, through the same stages as a
release) and this few-shot stage: a network whose head predicts the 16 type scores (one-hot targets)
and age / 50 is trained on the Train speakers (best epoch on the validation speakers); each test speaker
with more than `shots` clips is then personalised on its first `shots` clips and scored on the rest,
without adaptation and with `config.nonverbal.adapt`. Both parts use the reader's speaker-disjoint
70/15/15 split. The generate track needs emotion intensities and is not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ml_collections
import numpy as np
from tqdm.auto import tqdm

from exvo_jax.data.check import check_audio
from exvo_jax.data.errors import DataError, Problems
from exvo_jax.data.nonverbal import NUM_VOCAL_TYPES, Vocalisation, read_corpus, split_corpus
from exvo_jax.data.speakers import group_by_speaker
from exvo_jax.metrics import uar
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import FramedSet, build_model, fit
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks
from exvo_jax.tracks.fewshot.selection import describe

AGE_SCALE = 50.0  # the few-shot head predicts age / 50, of the order of the type scores


def split_counts(parts: dict[str, Sequence[Vocalisation]]) -> dict[str, dict[str, int]]:
    return {name: {"clips": len(clips), "speakers": len({c.speaker for c in clips})} for name, clips in parts.items()}


def describe_nonverbal(root: Path) -> str:
    """`nonverbal-vocalisation corpus at <root>: N clips, S speakers (train n / s, ...)`."""
    clips = read_corpus(root)
    counts = split_counts(split_corpus(clips))
    parts = ", ".join(f"{name} {c['clips']} clips / {c['speakers']} speakers" for name, c in counts.items())
    return (f"nonverbal-vocalisation corpus at {root}: {len(clips)} clips, {len({c.speaker for c in clips})} "
            f"speakers; speaker-disjoint split: {parts}")


def personalised_clips(test: Sequence[Vocalisation], shots: int) -> list[Vocalisation]:
    """The clips of the test speakers with more than `shots` clips (some left to score after the support)."""
    return [c for clips in group_by_speaker(test).values() if len(clips) > shots for c in clips]


def check_nonverbal(root: str, shots: int, progress: bool) -> dict:
    """Layout, file names and every clip's audio (missing, truncated, unreadable, empty, non-finite, silent),
    and a split that leaves every part some speakers and the test part a speaker to personalise. Any
    error is a `DataError` listing every problem found."""
    clips = read_corpus(root)  # a bad folder or file name stops here, naming it
    problems = Problems(collect=True)
    for clip in tqdm(clips, desc="checking audio", unit="clip", disable=not progress):
        check_audio(clip.path, problems)
    parts = split_corpus(clips)
    speakers = len({c.speaker for c in clips})
    for name, part in parts.items():
        if not part:
            problems.add(root, f"the speaker-disjoint split leaves the {name} part empty ({speakers} speakers in all)")
    if parts["test"] and not personalised_clips(parts["test"], shots):
        problems.add(root, f"no test speaker has more than {shots} clips: no speaker to personalise")
    if problems.errors:
        lines = "\n".join(f"{p.severity}: {p}" for p in problems.items)
        raise DataError(f"{root}: the corpus check failed:\n{lines}\n{len(problems.errors)} error(s), "
                        f"{len(problems.warnings)} warning(s)")
    return {"errors": 0, "warnings": len(problems.warnings), "clips": len(clips), "speakers": speakers,
            "split": split_counts(parts)}


def type_and_age_targets(clips: Sequence[Vocalisation]) -> np.ndarray:
    """`[N, 17]`: one-hot vocalisation type, then age / AGE_SCALE."""
    targets = np.zeros((len(clips), NUM_VOCAL_TYPES + 1), np.float32)
    targets[np.arange(len(clips)), [c.vocal_type for c in clips]] = 1.0
    targets[:, -1] = [c.age / AGE_SCALE for c in clips]
    return targets


def type_and_age_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Type UAR and accuracy (strongest score) and age MAE in years of `[N, 17]` rows."""
    true_type, predicted_type = truth[:, :-1].argmax(1), predicted[:, :-1].argmax(1)
    return {"type_uar": float(uar(true_type, predicted_type, NUM_VOCAL_TYPES)),
            "type_accuracy": float(np.mean(true_type == predicted_type)),
            "age_mae": float(np.mean(np.abs(predicted[:, -1] - truth[:, -1])) * AGE_SCALE)}


def fewshot_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    fs = ml_collections.ConfigDict(config.nonverbal.fewshot.to_dict())
    fs.model.outputs = NUM_VOCAL_TYPES + 1
    return fs


def nonverbal_fewshot_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains (resuming) the type-and-age network, personalises every test speaker; scores before and after."""
    fs = fewshot_config(config)
    parts = split_corpus(read_corpus(corpus["path"]))
    test = personalised_clips(parts["test"], fs.shots)

    def framed(clips) -> FramedSet:
        return FramedSet(load_frames([c.path for c in clips], fs.max_frames, progress), type_and_age_targets(clips))

    workdir = out / "fewshot"
    record, history = fit(fs, workdir, framed(parts["train"]), framed(parts["validation"]), progress=progress)
    weights = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    features = encode_clips(build_model(fs), weights, load_frames([c.path for c in test], fs.max_frames, progress),
                            batch_size=fs.eval_batch_size, buckets=tuple(fs.buckets), progress=progress)
    tasks, _ = speaker_tasks(test, features, type_and_age_targets(test), shots=fs.shots)
    tasks = [t for t in tasks if t.query]
    settings = {"no adaptation": AdaptSettings(steps=0),
                "adapted": AdaptSettings(**config.nonverbal.adapt.to_dict(), seed=fs.seed)}
    common = dict(hidden=fs.model.hidden, outputs=fs.model.outputs, buckets=tuple(fs.buckets), progress=progress)
    predicted = {name: personalise(record.best_params["head"], tasks, s, **common) for name, s in settings.items()}
    truth = np.concatenate([t.query_targets for t in tasks])
    train = type_and_age_targets(parts["train"])
    trivial = np.broadcast_to(train.mean(0), truth.shape).copy()
    trivial[:, :-1] = np.eye(NUM_VOCAL_TYPES)[train[:, :-1].sum(0).argmax()]  # the Train majority type
    return {
        "workdir": str(workdir),
        "adapted": describe(settings["adapted"]),
        "shots": int(fs.shots),
        "train_clips": len(parts["train"]),
        "query_clips": int(len(truth)),
        "scores": {**{name: type_and_age_scores(truth, np.concatenate(p)) for name, p in predicted.items()},
                   "trivial": type_and_age_scores(truth, trivial)},
        "speakers": [{"speaker": t.speaker, "query_clips": int(len(t.query_targets)),
                      **{f"{when}_age_mae": float(np.mean(np.abs(p[k][:, -1] - t.query_targets[:, -1])) * AGE_SCALE)
                         for when, p in (("before", predicted["no adaptation"]), ("after", predicted["adapted"]))}}
                     for k, t in enumerate(tasks)],
        "history": [{k: float(v) for k, v in h.items()} for h in history],
    }
