"""Default few-shot config (the paper's protocol) and the tiny variant used by tests.

The defaults are those of `FewshotSettings` (`exvo_jax.tracks.fewshot.settings`), as a ConfigDict that
config files and `--set` can change before `settings(config)` converts it.
"""

from __future__ import annotations

import ml_collections

from exvo_jax.recognition.settings import NetworkSettings
from exvo_jax.settings import as_config
from exvo_jax.tracks.fewshot.settings import FewshotSettings


def default_config(hidden: int = 256) -> ml_collections.ConfigDict:
    return as_config(FewshotSettings(model=NetworkSettings(hidden=hidden)))


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Seconds-scale variant: short clips, a few epochs, a small adaptation grid, few meta-steps."""
    config.max_frames = 20
    config.buckets = (10, 20)
    config.train.epochs = 15
    config.train.patience = 5
    config.train.learning_rate = 3e-3
    config.adapt.steps = (20,)
    config.adapt.learning_rates = (1e-2,)
    config.adapt.chunk_size = 16
    config.episodic.steps = 30
    config.episodic.meta_batch = 4
    config.episodic.query_clips = 3
    config.episodic.learning_rate = 1e-3
    return config
