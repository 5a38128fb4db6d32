"""Multitask baseline on ComParE_2016 functionals (6373-d), five seeds: the paper's main setting.

Run:   exvo-jax multitask train --config experiments/multitask/compare.py --data-dir <release> --workdir runs/compare
Tiny:  --config experiments/multitask/compare.py:tiny (two seeds, 40 epochs, last epoch)
Expected (paper): validation S_MTL about 0.33-0.34 on the real release (test 0.335).
"""

from exvo_jax.tracks.multitask.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    config.feature_set = "ComParE"
    if arg == "tiny":
        config = make_tiny(config)
    return config
