"""Config of the FID emotion classifier (the CNN-LSTM, 2-layer LSTM(256) on 0.1 s frames) and its tiny variant.

The fields are those of `RecognitionSettings` (`exvo_jax.recognition.settings`). The full model follows
the competition's feature space: H = 256 (256-d features), at most 200 frames (20 s), AdamW lr 1e-3, batch 8, up to 60
epochs with the best by validation mean CCC. The tiny variant trains in seconds on the synthetic
corpus: H = 16, narrow convolutions, the clips' first 0.5 s (the length of the tiny GAN's samples).
"""

from __future__ import annotations

import ml_collections

from exvo_jax.recognition.settings import RecognitionSettings
from exvo_jax.settings import as_config


def default_config() -> ml_collections.ConfigDict:
    return as_config(RecognitionSettings())


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    config.max_frames = 5
    config.buckets = (5,)
    config.model.hidden = 16
    config.model.channels = (8, 16, 16)
    config.train.learning_rate = 3e-3
    config.train.epochs = 12
    config.train.patience = 4
    return config
