"""Few-shot submission: adapt the trained head to every speaker of a split and predict its query clips.

Reads the model `train` exported in the workdir (`exvo_jax.run.import_model`): weights, and
as metadata the config, the adaptation chosen on Val and which head - plain or episodic - did better
there. Support labels come from the corpus (Val, or Test where `test_labels.csv` exists) or from a
`support_labels` CSV in the `data_info.csv` layout holding the labelled support clips released for the
Test speakers. Where every clip of the split is labelled the
first `shots` clips of each speaker are support; otherwise a speaker's labelled clips are, wherever they
sit in the file (`inference.support_rule`). Predictions are clipped by `report.submitted`, the function
Table 4 scores with. Writes `ExVo-Few_<team>_<n>.csv`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import TEST_LABELS, read_data_info, read_release
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import build_model
from exvo_jax.run import import_model
from exvo_jax.submission.formats import FEWSHOT, submission_filename
from exvo_jax.submission.writers import write_fewshot_submission
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, adaptation_mesh, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks, support_rule
from exvo_jax.tracks.fewshot.report import submitted
from exvo_jax.tracks.fewshot.config import FewshotSettings, settings


def load_run(workdir: str | Path) -> tuple[FewshotSettings, dict, dict]:
    """(settings, metadata with `predict_head` and `predict_settings`, weights as numpy) of a finished run."""
    weights, meta = import_model(workdir, command="exvo-jax fewshot train")
    return settings(meta["config"]), meta, weights


def predict(workdir: str | Path, data_dir: str | Path, out_dir: str | Path, *, split: str = "Test",
            support_labels: str | Path | None = None, team: str = "exvo-jax", number: int = 1,
            progress: bool = True) -> Path:
    """Writes the few-shot submission for the query clips of `split` and returns its path."""
    fewshot, results, weights = load_run(workdir)
    root = Path(data_dir)
    labels_file = split == "Test" and support_labels is None and (root / TEST_LABELS).exists()
    corpus = read_release(root, test_labels=labels_file)
    if support_labels is not None:
        corpus = corpus.with_labels([c for c in read_data_info(support_labels, root / "wav") if c.labelled])
    clips = corpus.split(split)
    if not clips:
        raise DataError(f"{root}: no {split} clips")
    outputs = fewshot.model.outputs
    targets = np.full((len(clips), outputs), np.nan, np.float32)
    for i, clip in enumerate(clips):
        if clip.emotions is not None:
            targets[i] = clip.emotions[:outputs]
    model = build_model(fewshot)
    frames = load_frames([c.wav_path for c in clips], fewshot.max_frames, progress)
    features = encode_clips(model, {"params": weights["params"], "batch_stats": weights["batch_stats"]}, frames,
                            batch_size=fewshot.eval_batch_size, buckets=tuple(fewshot.buckets), progress=progress)
    tasks, query_indices = speaker_tasks(clips, features, targets, shots=fewshot.shots, support=support_rule(targets))
    keep = [i for i, task in enumerate(tasks) if task.query]
    head = weights["episodic_head"] if results["predict_head"] == "episodic" else weights["params"]["head"]
    adaptation = AdaptSettings(**results["predict_settings"])
    predictions = personalise(head, [tasks[i] for i in keep], adaptation, hidden=fewshot.model.hidden,
                              outputs=outputs, buckets=tuple(fewshot.buckets), progress=progress,
                              mesh=adaptation_mesh(fewshot))
    file_ids = [clips[j].file_id for i in keep for j in query_indices[i]]
    path = Path(out_dir) / submission_filename(FEWSHOT, team, number)
    return write_fewshot_submission(path, file_ids, submitted(np.concatenate(predictions)))

