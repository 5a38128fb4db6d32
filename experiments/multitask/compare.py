"""Multitask baseline on ComParE_2016 functionals (6373-d), five seeds: the paper's main setting.

Run:   exvo-jax multitask train --config experiments/multitask/compare.py --data-dir <release> --workdir runs/compare
Tiny:  --config experiments/multitask/compare.py:tiny (two seeds, 40 epochs, last epoch)
Expected (paper): validation S_MTL about 0.33-0.34 on the real release (test 0.335).
"""

from exvo_jax.tracks.multitask.config import default_config


def get_config(arg=None):
    config = default_config()
    config.feature_set = "ComParE"
    if arg == "tiny":
        # A few hundred clips: the validation loss (ruled by age in years) bottoms out before the emotion
        # and country heads are trained, so run a fixed budget and keep the last epoch.
        config.seeds = (101, 102)
        config.max_epochs = 40
        config.patience = 40
        config.restore = "last"
        config.checkpoint_every = 10
    return config
