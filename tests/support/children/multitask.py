"""Child process of tests/test_multitask_platform.py: the multitask trainer on 8 simulated CPU devices.

`python -m tests.support.children.multitask devices WORKDIR` (with XLA_FLAGS forcing 8 host devices) trains
three seeds on one device, then on all 8 (seeds=4 x data=2: the seeds padded to 4, rows and mini-batches
split in two), and prints one JSON line of facts for the parent test to assert on.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import jax

from exvo_jax.data.errors import DataError
from exvo_jax.parallel import one_device_mesh, to_host
from exvo_jax.tracks.multitask import seeds
from exvo_jax.tracks.multitask import training as train
from tests.support.configs import multitask_settings
from tests.support.in_memory_runs import fit_multitask
from tests.support.multitask_data import small_data
from tests.support.tolerances import relative_error


def fit(config, data, workdir: Path, **kwargs) -> seeds.SeedState:
    return fit_multitask(config, data, workdir, **kwargs)[0]


def real(states: seeds.SeedState, n: int) -> dict:
    host = to_host({"train_loss": states.train_loss, "val_loss": states.val_loss, "params": states.params,
                    "epoch": states.epoch})
    return jax.tree_util.tree_map(lambda x: x[:n], host)


def devices_facts(workdir: Path) -> dict:
    # 37 training rows: the last batch is partial, and on data=2 the rows are padded to 38 (never drawn).
    data = small_data()
    config = multitask_settings(checkpoint_every=2, trunk=(32,))
    reference = real(fit(config, data, workdir / "one", mesh=one_device_mesh()), 3)

    config = dataclasses.replace(config, mesh={"seeds": 4, "data": 2})
    mesh = train.run_mesh(config)
    rows = train.training_rows((data.train.features, data.train.labels), mesh)
    states = fit(config, data, workdir / "eight")
    got = real(states, 3)
    leaf = jax.tree_util.tree_leaves(states.params)[0]

    errors = []
    for seeds_axis, data_axis, batch in ((4, 2, 7), (3, 1, 8)):
        config = dataclasses.replace(config, mesh={"seeds": seeds_axis, "data": data_axis}, batch_size=batch)
        try:
            train.run_mesh(config)
        except DataError as error:
            errors.append(str(error))
    return {
        "devices": jax.device_count(),
        "epochs": got["epoch"].tolist(),
        "loss_error": relative_error([got["train_loss"], got["val_loss"]],
                                     [reference["train_loss"], reference["val_loss"]]),
        "param_error": relative_error(got["params"], reference["params"]),
        "params_sharding": [type(leaf.sharding).__name__, str(leaf.sharding.spec), dict(leaf.sharding.mesh.shape),
                            list(leaf.shape), list(leaf.addressable_shards[0].data.shape)],
        "rows_sharding": [str(rows[0].sharding.spec), list(rows[0].shape),
                          list(rows[0].addressable_shards[0].data.shape)],
        "errors": errors,
    }


if __name__ == "__main__":
    print(json.dumps(devices_facts(Path(sys.argv[2]))))
