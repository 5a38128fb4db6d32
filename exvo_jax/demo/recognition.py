"""The demo's recognition stages: the multitask track, then the few-shot track with per-speaker adaptation.

Both serve both layouts (a release, a nonverbal-vocalisation corpus). Each stage converts its part of the
demo's config into the track's settings, trains through the track's `train` (which resumes from the
workdir's checkpoints) and, on a release, writes the Test submission with the track's `predict`.
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.demo.corpus import NONVERBAL
from exvo_jax.tracks import fewshot, multitask


def track_config(part: ml_collections.ConfigDict, corpus: dict, **fields) -> ml_collections.ConfigDict:
    """A copy of the demo config's `part` for a track, on the corpus, with `fields` set."""
    config = ml_collections.ConfigDict(part.to_dict())
    config.data_dir = corpus["path"]
    for name, value in fields.items():
        config[name] = value
    return config


def multitask_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains every seed (resuming) and, on a release, writes the Test submission; returns the workdir, the
    results path and the submission's ("" without one: a nonverbal-vocalisation corpus has no submission
    format)."""
    nonverbal = corpus["layout"] == NONVERBAL
    part = config.nonverbal.multitask if nonverbal else config.multitask
    settings = multitask.settings(track_config(part, corpus, test_labels=corpus["test_labels"] and not nonverbal))
    workdir = out / "multitask"
    results = multitask.train(settings, workdir, progress=progress)
    submission = ""
    if not nonverbal:
        written = multitask.predict(workdir, out / "submissions", data_dir=corpus["path"], team=config.team,
                                    progress=progress)
        submission = str(written["Test"])
    return {"workdir": str(workdir), "results": str(Path(results["paths"]["json"])), "submission": submission}


def fewshot_stage(config: ml_collections.ConfigDict, corpus: dict, out: Path, progress: bool) -> dict:
    """Trains and chooses the adaptation (resuming); on a release also writes the submission (for Test where the
    corpus has Test labels, which its support clips need, else for Val)."""
    workdir = out / "fewshot"
    if corpus["layout"] == NONVERBAL:
        return fewshot.train(fewshot.settings(track_config(config.nonverbal.fewshot, corpus)), workdir,
                             progress=progress)
    fewshot.train(fewshot.settings(track_config(config.fewshot, corpus)), workdir, progress=progress)
    split = "Test" if corpus["test_labels"] else "Val"
    submission = fewshot.predict(workdir, corpus["path"], out / "submissions", split=split, team=config.team,
                                 progress=progress)
    return {"workdir": str(workdir), "submission": str(submission), "split": split}
