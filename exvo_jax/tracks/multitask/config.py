"""Default config of the multitask track (the ExVo baseline) and its tiny variant; experiment files override them.

The defaults are those of `MultitaskSettings` (`exvo_jax.tracks.multitask.settings`), as a ConfigDict
that config files and `--set` can change before `settings(config)` converts it.
"""

from __future__ import annotations

import ml_collections

from exvo_jax.settings import as_config
from exvo_jax.tracks.multitask.settings import MultitaskSettings


def default_config() -> ml_collections.ConfigDict:
    """The baseline of the ExVo white paper: Adam 1e-3 with coupled L2 1e-4, batch 8, <= 20 epochs."""
    return as_config(MultitaskSettings())


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Test-sized variant: two seeds and a fixed budget of 40 epochs, keeping the last one.

    With a few hundred clips the validation loss (ruled by age in years) bottoms out before the emotion
    and country heads are trained, so early stopping on it would stop too soon.
    """
    config.seeds = (101, 102)
    config.max_epochs = 40
    config.patience = 40
    config.restore = "last"
    config.checkpoint_every = 10
    return config
