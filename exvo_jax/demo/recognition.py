"""The demo's recognition stages: multitask features and training, few-shot training and per-speaker adaptation.

The multitask stages serve both layouts (a release, a nonverbal-vocalisation corpus); the few-shot stage
here is the release's (the other is `exvo_jax.demo.nonverbal`).

Each stage trains through its track's own `train_and_evaluate` (which resumes from the workdir's
checkpoints), writes the Test submission, and returns the paths the report reads. The few-shot stage
also scores every Test speaker before and after adaptation, with the exported model and the adaptation
the track chose on Val.
"""

from __future__ import annotations

from pathlib import Path

import jax
import ml_collections
import numpy as np

from exvo_jax.data.release import TEST_LABELS, read_release
from exvo_jax.demo.corpus import NONVERBAL
from exvo_jax.metrics import ccc
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import build_model
from exvo_jax.tracks import fewshot, multitask
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks
from exvo_jax.tracks.fewshot.predict import load_run, predict_split
from exvo_jax.tracks.fewshot.train import protocol_splits
from exvo_jax.tracks.fewshot.report import submitted
from exvo_jax.tracks.multitask.data import load_data
from exvo_jax.tracks.multitask.predict import predict_release


def multitask_config(config: ml_collections.ConfigDict, corpus: dict) -> ml_collections.ConfigDict:
    """The multitask track's config for the corpus: `config.nonverbal.multitask` on a nonverbal-vocalisation
    corpus, else `config.multitask`."""
    nonverbal = corpus["layout"] == NONVERBAL
    mt = ml_collections.ConfigDict((config.nonverbal.multitask if nonverbal else config.multitask).to_dict())
    mt.data_dir, mt.test_labels = corpus["path"], corpus["test_labels"] and not nonverbal
    return mt


def features_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Extracts (and caches in the multitask workdir) the clip-level features the multitask track trains on."""
    mt = multitask_config(config, corpus)
    data = load_data(mt, out / "multitask", progress=progress)
    splits = {"Train": data.train, "Val": data.val, "Test": data.test}
    return {"feature_set": mt.feature_set, "dim": int(data.dim),
            "clips": {name: len(split) for name, split in splits.items() if split is not None}}


def multitask_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains every seed (resuming) and, on a release, writes the Test submission; returns the results path
    and the submission's ("" without one: a nonverbal-vocalisation corpus has no submission format)."""
    workdir = out / "multitask"
    results = multitask.train_and_evaluate(multitask_config(config, corpus), workdir, progress=progress)
    submission = ""
    if corpus["layout"] != NONVERBAL:
        written = predict_release(workdir, corpus["path"], out / "submissions", team=config.team, progress=progress)
        submission = str(written["Test"])
    return {"results": str(Path(results["paths"]["json"])), "submission": submission}


def fewshot_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains and chooses the adaptation (resuming), writes the submission, scores each held-out speaker.

    The submission is for Test where the corpus has Test labels (its support clips need them), else for Val.
    """
    workdir = out / "fewshot"
    fs = ml_collections.ConfigDict(config.fewshot.to_dict())
    fs.data_dir = corpus["path"]
    fewshot.train_and_evaluate(fs, workdir, progress=progress)
    split = "Test" if corpus["test_labels"] else "Val"
    submission = predict_split(workdir, corpus["path"], out / "submissions", split=split, team=config.team,
                               progress=progress)
    return {"results": str(workdir / "fewshot_results.json"), "submission": str(submission), "split": split,
            "speakers": speaker_scores(workdir, corpus["path"], progress)}


def speaker_scores(workdir: Path, data_dir: str, progress: bool) -> list[dict]:
    """Per speaker of the track's report split (Test, else held-out Val speakers): CCC over its query clips x
    emotions without adaptation and after it.

    One CCC per speaker pools the speaker's query predictions of every emotion (a speaker has only a few
    query clips, too few for a CCC per emotion).
    """
    config, meta, weights = load_run(workdir)
    with_test = (Path(data_dir) / TEST_LABELS).exists()
    splits, _, report = protocol_splits(read_release(data_dir, test_labels=with_test), with_test)
    clips = splits[report]
    outputs = config.model.outputs
    targets = np.stack([c.emotions[:outputs] for c in clips]).astype(np.float32)
    frames = load_frames([c.wav_path for c in clips], config.max_frames, progress)
    features = encode_clips(build_model(config), {"params": weights["params"], "batch_stats": weights["batch_stats"]},
                            frames, batch_size=config.eval_batch_size, buckets=tuple(config.buckets),
                            progress=progress)
    tasks, _ = speaker_tasks(clips, features, targets, shots=config.shots)
    tasks = [t for t in tasks if t.query]
    head = weights["episodic_head"] if meta["predict_head"] == "episodic" else weights["params"]["head"]
    adapted = AdaptSettings(**meta["predict_settings"])
    unadapted = AdaptSettings(**{**meta["predict_settings"], "mode": "full", "steps": 0})
    common = dict(hidden=config.model.hidden, outputs=outputs, buckets=tuple(config.buckets), progress=progress)
    before = personalise(head, tasks, unadapted, **common)
    after = personalise(head, tasks, adapted, **common)
    score = jax.jit(ccc)
    return [{"speaker": t.speaker, "query_clips": int(len(t.query_targets)),
             "before": float(score(t.query_targets.ravel(), submitted(b).ravel())),
             "after": float(score(t.query_targets.ravel(), submitted(a).ravel()))}
            for t, b, a in zip(tasks, before, after)]
