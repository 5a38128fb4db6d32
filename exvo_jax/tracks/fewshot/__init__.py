"""Few-shot (personalised emotion recognition) track: training, per-speaker adaptation, Table 4, prediction.

The track's public surface is `__all__` (see `exvo_jax.tracks`); `speaker_scores` adds each held-out
speaker's CCC before and after adaptation.
"""

from exvo_jax.tracks.fewshot.prediction import predict, speaker_scores
from exvo_jax.tracks.fewshot.report import evaluate, report_data
from exvo_jax.tracks.fewshot.config import FewshotSettings, settings
from exvo_jax.tracks.fewshot.training import train

__all__ = ["FewshotSettings", "evaluate", "predict", "report_data", "settings", "speaker_scores", "train"]
