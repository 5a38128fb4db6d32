"""`train_classifier(config, workdir)`: the emotion classifier whose feature space the Generate track's FID uses.

Trains the recognition model (`exvo_jax.recognition.training.fit`) on the labelled Train clips of
`config.data_dir`, choosing the best epoch on one half of the Val speakers ("Val-select") and reporting
the CCC per emotion on the other half ("Val-heldout"), which chose nothing: a FID in the space of a
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
import ml_collections
import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.data.speakers import halve_by_speaker
from exvo_jax.tracks.generate.evaluation.features import TRACK
from exvo_jax.metrics import ccc
from exvo_jax.parallel import describe_runtime, format_runtime
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import predict_clips
from exvo_jax.recognition.training import WATCH, FramedSet, build_model, fit, train_mesh
from exvo_jax.run import data_fingerprint, export_model, open_run
from exvo_jax.run.config_diff import plain_config

RESULTS_JSON = "classifier_results.json"
VAL_SPLIT_SEED = 0
SELECT, HELDOUT = "Val-select", "Val-heldout"

log = logging.getLogger(__name__)


def weights_key(arrays) -> str:
    """sha256 of every array (path, dtype, shape, bytes): equal keys, equal weights."""
    digest = hashlib.sha256()
    for path, leaf in sorted(jax.tree_util.tree_leaves_with_path(arrays), key=lambda p: jax.tree_util.keystr(p[0])):
        leaf = np.ascontiguousarray(leaf)
        digest.update(f"{jax.tree_util.keystr(path)}:{leaf.dtype}:{leaf.shape}".encode())
        digest.update(leaf.tobytes())
    return digest.hexdigest()


def classifier_splits(config: ml_collections.ConfigDict) -> tuple[dict[str, list], list[Path]]:
    """Labelled clips of Train, Val-select and Val-heldout, and the files they come from."""
    if not config.data_dir:
        raise DataError("no data folder: pass --data-dir or set config.data_dir")
    root = Path(config.data_dir)
    corpus = read_release(root)
    train = [c for c in corpus.split("Train") if c.labelled]
    select, heldout = halve_by_speaker([c for c in corpus.split("Val") if c.labelled], seed=VAL_SPLIT_SEED)
    splits = {"Train": train, SELECT: select, HELDOUT: heldout}
    empty = [name for name, clips in splits.items() if not clips]
    if empty:
        raise DataError(f"{root / DATA_INFO}: no labelled clips in {', '.join(empty)} (the classifier needs Train "
                        "clips and Val clips of at least two speakers)")
    return splits, [root / DATA_INFO] + [c.wav_path for clips in splits.values() for c in clips]


def train_classifier(config: ml_collections.ConfigDict, workdir: str | Path, *, overwrite: bool = False,
                     progress: bool = True) -> dict:
    """Trains (or resumes) the classifier in `workdir`, exports it, and returns its results.

    Results: `held_out_ccc` (per emotion) and `held_out_mean_ccc` on Val-heldout, `best_epoch`, `history`,
    `key` (of the exported weights) and `paths`; also written to `classifier_results.json`.
    """
    splits, files = classifier_splits(config)
    mesh = train_mesh(config)
    outputs = config.model.outputs
    frames = {name: load_frames([c.wav_path for c in clips], config.max_frames, progress)
              for name, clips in splits.items()}
    targets = {name: label_arrays(clips)["emotions"][:, :outputs] for name, clips in splits.items()}
    with open_run(workdir, config, data_fingerprint(files), overwrite=overwrite, watch_fields=WATCH) as run:
        runtime = describe_runtime(mesh)
        log.info("classifier: %s", format_runtime(runtime))
        run.log_event("start", runtime=runtime)
        record, history = fit(config, run, FramedSet(frames["Train"], targets["Train"]),
                              FramedSet(frames[SELECT], targets[SELECT]), mesh=mesh,
                              progress=progress and run.is_primary)
        weights = {"params": record.best_params, "batch_stats": record.best_batch_stats}
        predictions = predict_clips(build_model(config), weights, frames[HELDOUT], batch_size=config.eval_batch_size,
                                    buckets=tuple(config.buckets), mesh=mesh)
        per_emotion = np.asarray(ccc(targets[HELDOUT], predictions))  # [K], population CCC
        key = weights_key(weights)
        model_dir = export_model(run.workdir, weights, {"track": TRACK, "config": plain_config(config), "key": key,
                                                        "best_epoch": int(record.best_epoch) + 1})
        results = {
            "held_out_ccc": dict(zip(EMOTIONS[:outputs], map(float, per_emotion))),
            "held_out_mean_ccc": float(per_emotion.mean()),
            "held_out_split": HELDOUT,
            "held_out_clips": len(splits[HELDOUT]),
            "best_epoch": int(record.best_epoch) + 1,
            "history": history,
            "key": key,
            "paths": {"model": str(model_dir), "json": str(run.workdir / RESULTS_JSON)},
        }
        run.write_json(RESULTS_JSON, results)
        return results
