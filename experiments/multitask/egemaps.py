"""Multitask baseline on eGeMAPSv02 functionals (88-d), five seeds.

Run:   exvo-jax multitask train --config experiments/multitask/egemaps.py --data-dir <release> --workdir runs/egemaps
Tiny:  --config experiments/multitask/egemaps.py:tiny (two seeds, 40 epochs, last epoch; used by the tests)
Expected (paper, Table 2, validation): eGeMAPS below ComParE; S_MTL roughly 0.3 on the real release.
"""

from exvo_jax.tracks.multitask.config import default_config


def get_config(arg=None):
    config = default_config()
    config.feature_set = "eGeMAPS"
    if arg == "tiny":
        # A few hundred clips: the validation loss (ruled by age in years) bottoms out before the emotion
        # and country heads are trained, so run a fixed budget and keep the last epoch.
        config.seeds = (101, 102)
        config.max_epochs = 40
        config.patience = 40
        config.restore = "last"
        config.checkpoint_every = 10
    return config
