"""Settings of the FID emotion classifier (the few-shot CNN + 2-layer LSTM(256) on 0.1 s frames) and its tiny variant.

The fields are those `exvo_jax.recognition.training.fit` reads. The full model follows the competition's
feature space: H = 256 (256-d features), at most 200 frames (20 s), AdamW lr 1e-3, batch 8, up to 60
epochs with the best by validation mean CCC. The tiny variant trains in seconds on the synthetic
corpus: H = 16, narrow convolutions, the clips' first 0.5 s (the length of the tiny GAN's samples).
"""

from __future__ import annotations

import ml_collections

from exvo_jax.data.schema import EMOTIONS


def default_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.data_dir = ""
    config.seed = 0
    config.max_frames = 200
    config.buckets = (10, 25, 50, 100, 200)
    config.eval_batch_size = 32
    config.mesh = ml_collections.ConfigDict({"data": -1})  # batches split over every device
    config.model = ml_collections.ConfigDict({"hidden": 256, "outputs": len(EMOTIONS), "channels": (64, 128, 256)})
    config.train = ml_collections.ConfigDict(
        {"batch_size": 8, "learning_rate": 1e-3, "weight_decay": 0.01, "epochs": 60, "patience": 30})
    return config


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    config.max_frames = 5
    config.buckets = (5,)
    config.model.hidden = 16
    config.model.channels = (8, 16, 16)
    config.train.learning_rate = 3e-3
    config.train.epochs = 12
    config.train.patience = 4
    return config
