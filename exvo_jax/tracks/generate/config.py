"""Default config of the Generate track (the ExVo MSG-GAN baseline) and its CPU-sized variant.

The defaults are those of `GenerateSettings` (`exvo_jax.tracks.generate.settings`), as a ConfigDict that
the files in experiments/generate and `--set` change before `settings(config)` converts it.
"""

from __future__ import annotations

import ml_collections

from exvo_jax.settings import as_config
from exvo_jax.tracks.generate.settings import GenerateSettings


def default_config() -> ml_collections.ConfigDict:
    """The baseline: 128 x 512 log-mels, MSG-GAN depth 7 / latent 512, Adam (G 3e-3, D 3e-4, betas 0, 0.99)."""
    return as_config(GenerateSettings())


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """CPU-sized variant: 16 x 64 log-mels (0.5 s, the `nano` geometry), depth 4, latent 16, batch 16."""
    config.mel = ml_collections.ConfigDict({"n_mels": 16, "hop": 128, "frames": 64})
    config.model = ml_collections.ConfigDict({"depth": 4, "latent_size": 16, "channels": ()})
    config.country = ""
    config.batch_size = 16
    config.ema_decay = 0.95  # a few hundred iterations: at 0.999 the EMA would still be mostly the initial weights
    config.steps = 300
    config.log_every = 25
    config.checkpoint_every = 100
    config.sample_every = 150
    config.keep_samples = 2
    config.audio_per_emotion = 1
    return config
