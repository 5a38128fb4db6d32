"""Default few-shot configuration (the paper's protocol) and the tiny variant used by tests."""

from __future__ import annotations

import ml_collections

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.recognition.training import WATCH as TRAINING_WATCH

# Watch fields of a few-shot run: the trainer's, and how adaptation is spread over devices and chunked
# (float rounding and speed, not what is computed).
WATCH = TRAINING_WATCH | {"adapt.strategy", "adapt.chunk_size"}


def default_config(hidden: int = 256) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.data_dir = ""
    config.seed = 0
    config.shots = 2
    config.max_frames = 200
    config.buckets = (10, 25, 50, 100, 200)
    config.eval_batch_size = 32
    # Training is data-parallel: train.batch_size rows split over `data` (-1: every device). Adaptation
    # and episodic meta-batches split speakers over all devices.
    config.mesh = ml_collections.ConfigDict({"data": -1})
    config.model = ml_collections.ConfigDict(
        {"hidden": hidden, "outputs": len(EMOTIONS), "channels": (64, 128, 256)})
    config.train = ml_collections.ConfigDict(
        {"batch_size": 8, "learning_rate": 1e-3, "weight_decay": 0.01, "epochs": 60, "patience": 30})
    config.adapt = ml_collections.ConfigDict({
        "modes": ("full", "bias_head", "lora", "ridge"),
        "steps": (1, 5, 10, 20),
        "learning_rates": (1e-4, 1e-3, 1e-2),
        "weight_decay": 0.01,
        "lora_rank": 4,
        "strategy": "auto",  # "vmap" | "map" | "auto" (by backend and mode)
        "chunk_size": 64,
        # `ridge`: the output layer solved per speaker, pulled toward the trained one with these strengths
        "ridge_strengths": (1e-3, 1e-2, 1e-1, 1.0, 10.0),
    })
    # Table 4's linear yardstick: ridge regression from the clips' functionals to the intensities
    config.yardstick = ml_collections.ConfigDict(
        {"enabled": True, "feature_set": "eGeMAPS", "alphas": (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)})
    config.cache_dir = ""  # functionals cache; empty: <workdir>/feature_cache
    config.workers = 0  # feature-extraction processes; 0: one per CPU core
    config.episodic = ml_collections.ConfigDict({
        "enabled": True, "steps": 2000, "meta_batch": 16, "query_clips": 8, "learning_rate": 1e-4,
        "first_order": True})
    config.speaker_norm = True
    config.team = "exvo_jax"
    config.submission = 1
    return config


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
