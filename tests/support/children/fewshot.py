"""Child process of tests/test_fewshot_platform.py: few-shot training and adaptation on 8 simulated CPU devices.

`python -m tests.support.children.fewshot devices WORKDIR` (with XLA_FLAGS forcing 8 host devices) trains the
tiny model for two epochs on one device and on all 8 (the global batch of 8 rows split over `data`), runs the
batched evaluation passes with and without their batches sharded over `data`, adapts nine speakers on one
device and on all 8 (chunks of 16 speakers, two per device), and prints one JSON line of facts for the parent
test to assert on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.parallel import make_mesh, place, sharded, to_host
from exvo_jax.recognition.inference import frame_group_size, hidden_clips, predict_clips, predict_program
from exvo_jax.recognition.training import FramedSet, build_model, device_batch, epoch_batches, train_mesh
from exvo_jax.tracks.fewshot import adapt, head_params
from tests.support.configs import fewshot_settings
from tests.support.in_memory_runs import fit_recognition
from tests.support.speaker_tasks import FEATURES, HIDDEN, OUTPUTS, make_tasks
from tests.support.tolerances import relative_error


def devices_facts(workdir: Path) -> dict:
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(int(n), 1600)).astype(np.float32) * 0.1 for n in rng.integers(1, 10, size=20)]
    data = FramedSet(frames, rng.uniform(size=(20, 10)).astype(np.float32))
    config = fewshot_settings("train.epochs=2", "train.patience=100", "train.batch_size=8")
    one = make_mesh({"data": 1}, devices=jax.devices()[:1])
    _, reference = fit_recognition(config, workdir / "one", data, data, mesh=one)
    mesh = train_mesh(config)
    record, history = fit_recognition(config, workdir / "eight", data, data)
    batch = device_batch(next(epoch_batches(data, 8, tuple(config.buckets), 0, 0)), mesh)

    model, buckets = build_model(config), tuple(config.buckets)
    variables = {"params": record.best_params, "batch_stats": record.best_batch_stats}
    passes = {name: (predict_clips(model, variables, frames, batch_size=8, buckets=buckets, mesh=on),
                     *hidden_clips(model, variables, frames, batch_size=8, buckets=buckets, mesh=on))
              for name, on in (("plain", None), ("sharded", mesh))}
    evaluated = predict_program(model, frame_group_size(), mesh)(variables, *batch[:2])

    head = jax.jit(adapt.SequenceHead(HIDDEN, OUTPUTS).init)(jax.random.key(0), np.zeros((1, 2, FEATURES)))["params"]
    tasks = make_tasks(9)
    settings = adapt.AdaptSettings(mode="full", steps=4, learning_rate=0.05, chunk_size=16)
    common = dict(hidden=HIDDEN, outputs=OUTPUTS, buckets=(5, 10))
    alone = adapt.personalise(head, tasks, settings, mesh=make_mesh({"speakers": 1}, jax.devices()[:1]), **common)
    spread = adapt.personalise(head, tasks, settings, **common)
    speakers = adapt.speaker_mesh()
    program = adapt.chunk_program(adapt.adapted_head(HIDDEN, OUTPUTS, settings), "map", 4, settings.weight_decay)
    arrays = place(adapt._chunk_arrays(tasks, 16, (5, 10)), sharded(speakers, "speakers"))
    shared, personal = head_params.split_params(to_host(head), "full")
    out = program(shared, personal, np.float32(0.05), *arrays)

    try:
        train_mesh(fewshot_settings("train.batch_size=6"))
        error = None
    except DataError as err:
        error = str(err)
    return {
        "devices": jax.device_count(),
        "epochs": [h["epoch"] for h in history],
        "loss_error": relative_error([h["train_loss"] for h in history], [h["train_loss"] for h in reference]),
        "ccc_error": max(abs(h["val_mean_ccc"] - r["val_mean_ccc"]) for h, r in zip(history, reference)),
        "adapted_error": relative_error(spread, alone),
        "inference_error": relative_error(passes["sharded"], passes["plain"]),
        "inference_shapes": [list(a.shape) for a in passes["sharded"]],
        "inference_sharding": [str(evaluated.sharding.spec), list(evaluated.addressable_shards[0].data.shape)],
        "batch_sharding": [str(batch[0].sharding.spec), list(batch[0].shape),
                           list(batch[0].addressable_shards[0].data.shape)],
        "chunk_sharding": [str(arrays[0].sharding.spec), list(arrays[0].shape),
                           list(arrays[0].addressable_shards[0].data.shape)],
        "adapted_sharding": [str(out.sharding.spec), list(out.addressable_shards[0].data.shape)],
        "error": error,
    }


if __name__ == "__main__":
    print(json.dumps(devices_facts(Path(sys.argv[2]))))
