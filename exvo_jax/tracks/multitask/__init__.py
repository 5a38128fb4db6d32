"""Multitask track: emotion intensities, age and country from clip-level features, several seeds at once.

The track's public surface is `__all__` (see `exvo_jax.tracks`).
"""

from exvo_jax.tracks.multitask.prediction import predict
from exvo_jax.tracks.multitask.report import evaluate, report_data
from exvo_jax.tracks.multitask.config import MultitaskSettings, settings
from exvo_jax.tracks.multitask.training import train

__all__ = ["MultitaskSettings", "evaluate", "predict", "report_data", "settings", "train"]
