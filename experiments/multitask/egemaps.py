"""Multitask baseline on eGeMAPSv02 functionals (88-d), five seeds.

Run:   exvo-jax multitask train --config experiments/multitask/egemaps.py --data-dir <release> --workdir runs/egemaps
Tiny:  --config experiments/multitask/egemaps.py:tiny (two seeds, 40 epochs, last epoch; used by the tests)
Expected (paper, Table 2, validation): eGeMAPS below ComParE; S_MTL roughly 0.3 on the real release.
"""

from exvo_jax.tracks.multitask.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    config.feature_set = "eGeMAPS"
    if arg == "tiny":
        config = make_tiny(config)
    return config
