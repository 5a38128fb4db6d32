"""Child process of tests/test_generate_training.py: the Generate trainer on 8 simulated CPU devices.

`python -m tests.support.children.generate CORPUS WORKDIR` (with XLA_FLAGS forcing 8 host devices) trains
the per-emotion GANs of `EMOTIONS_USED` on a 2 x 4 mesh: the two models over the axis `seeds`, every mini-batch
split over the axis `data`. It prints one JSON line of facts; the parent compares the run's losses, in
WORKDIR, with those of the models trained alone on one device.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax

from exvo_jax.tracks import generate
from tests.support.configs import generate_settings
from tests.support.stacked_gans import EMOTIONS_USED, STEPS


def devices_facts(corpus: Path, workdir: Path) -> dict:
    settings = generate_settings(corpus, EMOTIONS_USED, STEPS, mesh={"seeds": len(EMOTIONS_USED), "data": -1})
    result = generate.train(settings, workdir, progress=False)
    leaf = jax.tree.leaves(result["states"].g_params)[0]
    return {
        "devices": jax.device_count(),
        "names": result["names"],
        "step": result["step"],
        "g_params_sharding": [str(leaf.sharding.spec), dict(leaf.sharding.mesh.shape), list(leaf.shape),
                              list(leaf.addressable_shards[0].data.shape)],
    }


if __name__ == "__main__":
    print(json.dumps(devices_facts(Path(sys.argv[1]), Path(sys.argv[2]))))
