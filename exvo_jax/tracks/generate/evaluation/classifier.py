"""`train_classifier(settings, workdir)`: the emotion classifier whose feature space the Generate track's FID uses.

The CNN-LSTM trained by the recognition protocol (`exvo_jax.recognition.protocol`) on the labelled Train
clips of `settings.data_dir`, choosing the best epoch on one half of the Val speakers ("Val-select") and
reporting the CCC per emotion on the other half ("Val-heldout"), which chose nothing: a FID in the space of a
classifier that learned nothing means nothing, so this number travels with every FID it produces.
The workdir belongs to the run layer (checkpoints, resume rule, lock); the best epoch's weights are
exported to `model/` with a `key` (a digest of the weights) that names the statistics files computed
with them, so a retrained classifier never reuses statistics of an earlier one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import jax
import numpy as np

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.metrics import ccc
from exvo_jax.parallel import describe_runtime, format_runtime
from exvo_jax.recognition.inference import predict_clips
from exvo_jax.recognition.protocol import fit_protocol, protocol_data
from exvo_jax.recognition.settings import WATCH, RecognitionSettings
from exvo_jax.recognition.training import build_model, train_mesh
from exvo_jax.run import data_fingerprint, export_model, open_run
from exvo_jax.run.config_diff import plain_config
from exvo_jax.settings import from_config
from exvo_jax.tracks.generate.evaluation.features import TRACK

RESULTS_JSON = "classifier_results.json"

log = logging.getLogger(__name__)


def classifier_settings(config) -> RecognitionSettings:
    """The classifier's settings (the CNN-LSTM's supervised training) from a config; a bad field is a `DataError`."""
    return from_config(RecognitionSettings, config)


def weights_key(arrays) -> str:
    """sha256 of every array (path, dtype, shape, bytes): equal keys, equal weights."""
    digest = hashlib.sha256()
    for path, leaf in sorted(jax.tree_util.tree_leaves_with_path(arrays), key=lambda p: jax.tree_util.keystr(p[0])):
        leaf = np.ascontiguousarray(leaf)
        digest.update(f"{jax.tree_util.keystr(path)}:{leaf.dtype}:{leaf.shape}".encode())
        digest.update(leaf.tobytes())
    return digest.hexdigest()


def train_classifier(settings: RecognitionSettings, workdir: str | Path, *, overwrite: bool = False,
                     progress: bool = True) -> dict:
    """Trains (or resumes) the classifier in `workdir`, exports it, and returns its results.

    Results: `held_out_ccc` (per emotion) and `held_out_mean_ccc` on Val-heldout, `best_epoch`, `history`,
    `key` (of the exported weights) and `paths`; also written to `classifier_results.json`.
    """
    mesh = train_mesh(settings)
    data = protocol_data(settings, test_labels=False, progress=progress)
    with open_run(workdir, settings, data_fingerprint(data.files), overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("classifier: %s", format_runtime(runtime))
        run.log_event("start", runtime=runtime)
        record, history = fit_protocol(settings, run, data, mesh, progress=progress and run.is_primary)
        weights = {"params": record.best_params, "batch_stats": record.best_batch_stats}
        predictions = predict_clips(build_model(settings), weights, data.frames[data.report],
                                    batch_size=settings.eval_batch_size, buckets=tuple(settings.buckets), mesh=mesh)
        per_emotion = np.asarray(ccc(data.targets[data.report], predictions))  # [K], population CCC
        key = weights_key(weights)
        model_dir = export_model(run.workdir, weights, {"track": TRACK, "config": plain_config(settings), "key": key,
                                                        "best_epoch": int(record.best_epoch) + 1})
        results = {
            "held_out_ccc": dict(zip(EMOTIONS[:settings.model.outputs], map(float, per_emotion))),
            "held_out_mean_ccc": float(per_emotion.mean()),
            "held_out_split": data.report,
            "held_out_clips": len(data.splits[data.report]),
            "best_epoch": int(record.best_epoch) + 1,
            "history": history,
            "key": key,
            "paths": {"model": str(model_dir), "json": str(run.workdir / RESULTS_JSON)},
        }
        run.write_json(RESULTS_JSON, results)
        return results
