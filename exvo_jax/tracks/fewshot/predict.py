"""Few-shot submission: adapt the trained head to every speaker of a split and predict its query clips.

Reads what `train_and_evaluate` left in the workdir (config, weights, the adaptation chosen on Val and
which head - plain or episodic - did better there). Support labels come from the corpus (Val, or Test
where `test_labels.csv` exists) or from a `support_labels` CSV in the `data_info.csv` layout holding the
labelled support clips released for the Test speakers. Writes `ExVo-Few_<team>_<n>.csv`.
"""

from __future__ import annotations

import json
from pathlib import Path

import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import TEST_LABELS, read_data_info, read_release
from exvo_jax.submission.formats import FEWSHOT, submission_filename
from exvo_jax.submission.writers import write_fewshot_submission
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.framing import load_frames
from exvo_jax.tracks.fewshot.inference import encode_clips, speaker_tasks
from exvo_jax.tracks.fewshot.train import CONFIG_JSON, MODEL_DIR, RESULTS_JSON
from exvo_jax.tracks.fewshot.training import build_model


def load_run(workdir: str | Path) -> tuple[ml_collections.ConfigDict, dict, dict]:
    """(config, results, weights) of a finished training run."""
    workdir = Path(workdir)
    for name in (CONFIG_JSON, RESULTS_JSON, MODEL_DIR):
        if not (workdir / name).exists():
            raise DataError(f"{workdir / name}: missing; run `exvo-jax fewshot train` with this workdir first")
    config = ml_collections.ConfigDict(json.loads((workdir / CONFIG_JSON).read_text()))
    results = json.loads((workdir / RESULTS_JSON).read_text())
    with ocp.StandardCheckpointer() as checkpointer:
        weights = checkpointer.restore((workdir / MODEL_DIR).absolute())
    return config, results, weights


def predict_split(workdir: str | Path, data_dir: str | Path, out_dir: str | Path, *, split: str = "Test",
                  support_labels: str | Path | None = None, team: str = "exvo-jax", number: int = 1,
                  progress: bool = True) -> Path:
    """Writes the few-shot submission for the query clips of `split` and returns its path."""
    config, results, weights = load_run(workdir)
    root = Path(data_dir)
    labels_file = split == "Test" and support_labels is None and (root / TEST_LABELS).exists()
    corpus = read_release(root, test_labels=labels_file)
    if support_labels is not None:
        corpus = corpus.with_labels([c for c in read_data_info(support_labels, root / "wav") if c.labelled])
    clips = corpus.split(split)
    if not clips:
        raise DataError(f"{root}: no {split} clips")
    outputs = config.model.outputs
    targets = np.full((len(clips), outputs), np.nan, np.float32)
    for i, clip in enumerate(clips):
        if clip.emotions is not None:
            targets[i] = clip.emotions[:outputs]
    model = build_model(config)
    frames = load_frames([c.wav_path for c in clips], config.max_frames, progress)
    features = encode_clips(model, {"params": weights["params"], "batch_stats": weights["batch_stats"]}, frames,
                            batch_size=config.eval_batch_size, buckets=tuple(config.buckets), progress=progress)
    tasks, query_indices = speaker_tasks(clips, features, targets, shots=config.shots)
    keep = [i for i, task in enumerate(tasks) if task.query]
    head = weights["episodic_head"] if results["predict_head"] == "episodic" else weights["params"]["head"]
    settings = AdaptSettings(**results["predict_settings"])
    predictions = personalise(head, [tasks[i] for i in keep], settings, hidden=config.model.hidden,
                              outputs=outputs, buckets=tuple(config.buckets), progress=progress)
    file_ids = [clips[j].file_id for i in keep for j in query_indices[i]]
    path = Path(out_dir) / submission_filename(FEWSHOT, team, number)
    return write_fewshot_submission(path, file_ids, np.clip(np.concatenate(predictions), 0.0, 1.0))
