"""Multitask track: emotion intensities, age and country from clip-level features, several seeds at once."""

from exvo_jax.tracks.multitask.report import render_markdown
from exvo_jax.tracks.multitask.train import train_and_evaluate

__all__ = ["render_markdown", "train_and_evaluate"]
