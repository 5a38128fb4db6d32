"""The few-shot track on a nonverbal-vocalisation corpus: type scores and age, adapted to each test speaker.

The corpus (`exvo_jax.data.nonverbal`) labels vocalisation type, age and sex but no emotion intensities.
The CNN-LSTM's head predicts the 16 type scores (one-hot targets) and age / 50 (`model.outputs` = 17); it
is trained on the Train speakers of the reader's speaker-disjoint 70/15/15 split, with the best epoch
chosen on the validation speakers. Each test speaker with more than `shots` clips is then personalised
on its first `shots` clips and scored on the rest, without adaptation and with the adaptation grid's one
point (too few validation speakers have more than `shots` clips to choose one on them), beside the
trivial predictor (the Train majority type and mean age).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from exvo_jax.data.nonverbal import METADATA_FILE, NUM_VOCAL_TYPES, Vocalisation, read_corpus, split_corpus
from exvo_jax.data.nonverbal_check import personalised_clips
from exvo_jax.metrics import uar
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import FramedSet, build_model, fit, train_mesh
from exvo_jax.run import data_fingerprint, open_run
from exvo_jax.tracks.fewshot.adapt import adaptation_mesh, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks
from exvo_jax.tracks.fewshot.report import RESULTS_JSON
from exvo_jax.tracks.fewshot.selection import adapt_settings, describe
from exvo_jax.tracks.fewshot.config import WATCH, FewshotSettings

AGE_SCALE = 50.0  # the head predicts age / 50, of the order of the type scores
OUTPUTS = NUM_VOCAL_TYPES + 1


def type_and_age_targets(clips: Sequence[Vocalisation]) -> np.ndarray:
    """`[N, 17]`: one-hot vocalisation type, then age / AGE_SCALE."""
    targets = np.zeros((len(clips), OUTPUTS), np.float32)
    targets[np.arange(len(clips)), [c.vocal_type for c in clips]] = 1.0
    targets[:, -1] = [c.age / AGE_SCALE for c in clips]
    return targets


def type_and_age_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Type UAR and accuracy (strongest score) and age MAE in years of `[N, 17]` rows."""
    true_type, predicted_type = truth[:, :-1].argmax(1), predicted[:, :-1].argmax(1)
    return {"type_uar": float(uar(true_type, predicted_type, NUM_VOCAL_TYPES)),
            "type_accuracy": float(np.mean(true_type == predicted_type)),
            "age_mae": float(np.mean(np.abs(predicted[:, -1] - truth[:, -1])) * AGE_SCALE)}


def train_nonverbal(settings: FewshotSettings, workdir: str | Path, *, overwrite: bool = False,
                    progress: bool = True) -> dict:
    """Trains (resuming) the type-and-age network, personalises every test speaker; scores before and after."""
    root = Path(settings.data_dir)
    parts = split_corpus(read_corpus(root))
    test = personalised_clips(parts["test"], settings.shots)
    mesh, speakers = train_mesh(settings), adaptation_mesh(settings)

    def framed(clips) -> FramedSet:
        return FramedSet(load_frames([c.path for c in clips], settings.max_frames, progress),
                         type_and_age_targets(clips))

    train, val = framed(parts["train"]), framed(parts["validation"])
    files = [root / METADATA_FILE] + [c.path for clips in parts.values() for c in clips]
    with open_run(workdir, settings, data_fingerprint(files), overwrite=overwrite, watch_fields=WATCH) as run:
        record, history = fit(settings, run, train, val, mesh=mesh, progress=progress and run.is_primary)
        weights = {"params": record.best_params, "batch_stats": record.best_batch_stats}
        features = encode_clips(build_model(settings), weights,
                                load_frames([c.path for c in test], settings.max_frames, progress),
                                batch_size=settings.eval_batch_size, buckets=tuple(settings.buckets),
                                progress=progress)
        tasks, _ = speaker_tasks(test, features, type_and_age_targets(test), shots=settings.shots)
        tasks = [t for t in tasks if t.query]
        grid = settings.adapt
        chosen = {"no adaptation": adapt_settings(settings, "full", 0, 0.0),
                  "adapted": adapt_settings(settings, grid.modes[0], grid.steps[0], grid.learning_rates[0])}
        common = dict(hidden=settings.model.hidden, outputs=settings.model.outputs, buckets=tuple(settings.buckets),
                      progress=progress, mesh=speakers)
        predicted = {name: personalise(record.best_params["head"], tasks, s, **common) for name, s in chosen.items()}
        truth = np.concatenate([t.query_targets for t in tasks])
        train_targets = type_and_age_targets(parts["train"])
        trivial = np.broadcast_to(train_targets.mean(0), truth.shape).copy()
        trivial[:, :-1] = np.eye(NUM_VOCAL_TYPES)[train_targets[:, :-1].sum(0).argmax()]  # the Train majority type
        results = {
            "workdir": str(run.workdir),
            "adapted": describe(chosen["adapted"]),
            "shots": int(settings.shots),
            "train_clips": len(parts["train"]),
            "query_clips": int(len(truth)),
            "scores": {**{name: type_and_age_scores(truth, np.concatenate(p)) for name, p in predicted.items()},
                       "trivial": type_and_age_scores(truth, trivial)},
            "speakers": [{"speaker": t.speaker, "query_clips": int(len(t.query_targets)),
                          **{f"{when}_age_mae": float(np.mean(np.abs(p[k][:, -1] - t.query_targets[:, -1])) * AGE_SCALE)
                             for when, p in (("before", predicted["no adaptation"]), ("after", predicted["adapted"]))}}
                         for k, t in enumerate(tasks)],
            "history": [{k: float(v) for k, v in h.items()} for h in history],
            "paths": {"json": str(run.workdir / RESULTS_JSON)},
        }
        run.write_json(RESULTS_JSON, results)
        return results
