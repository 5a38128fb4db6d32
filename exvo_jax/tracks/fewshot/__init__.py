"""Few-shot (personalised emotion recognition) track: training, per-speaker adaptation, Table 4, prediction.

The track's public surface is `__all__` (see `exvo_jax.tracks`).
"""

from exvo_jax.tracks.fewshot.prediction import predict
from exvo_jax.tracks.fewshot.report import evaluate, report_data
from exvo_jax.tracks.fewshot.config import FewshotSettings, settings
from exvo_jax.tracks.fewshot.training import train

__all__ = ["FewshotSettings", "evaluate", "predict", "report_data", "settings", "train"]
