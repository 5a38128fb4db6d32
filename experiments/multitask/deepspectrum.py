"""Multitask baseline on DeepSpectrum features (VGG-19 fc7 of viridis mel images, 4096-d), five seeds.

Uses the release's `feats/DeepSpectrum/` CSVs when present; otherwise computes them from audio with VGG-19
ImageNet weights read from a local .npz named by $EXVO_VGG19_WEIGHTS (never downloaded).
Run:   exvo-jax multitask train --config experiments/multitask/deepspectrum.py --data-dir <release> --workdir runs/ds
Tiny:  `:tiny` (two seeds, 40 epochs, last epoch)
Expected (paper, Table 2): the weakest of the feature sets on emotions.
"""

from exvo_jax.tracks.multitask.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    config.feature_set = "DeepSpectrum"
    if arg == "tiny":
        config = make_tiny(config)
    return config
