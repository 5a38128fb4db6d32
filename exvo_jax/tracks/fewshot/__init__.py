"""Few-shot (personalised emotion recognition) track: training, per-speaker adaptation, Table 4, prediction."""

from exvo_jax.tracks.fewshot.report import render_table
from exvo_jax.tracks.fewshot.train import train_and_evaluate

__all__ = ["render_table", "train_and_evaluate"]
