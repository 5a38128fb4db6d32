"""Submissions of the three ExVo tracks: writers, validators and scoring."""

from exvo_jax.submission.formats import (
    CLIPS_PER_EMOTION,
    COLUMNS,
    CSV_TRACKS,
    FEWSHOT,
    GENERATE,
    MULTITASK,
    submission_filename,
)
from exvo_jax.submission.scoring import load_scoring_corpus, score_predictions, score_submission
from exvo_jax.submission.validate import (
    Predictions,
    ValidationReport,
    required_clips,
    validate_csv,
    validate_generation_folder,
    validate_submission,
)
from exvo_jax.submission.writers import (
    write_fewshot_submission,
    write_generated_clips,
    write_multitask_submission,
)

__all__ = [
    "CLIPS_PER_EMOTION",
    "COLUMNS",
    "CSV_TRACKS",
    "FEWSHOT",
    "GENERATE",
    "MULTITASK",
    "Predictions",
    "ValidationReport",
    "load_scoring_corpus",
    "required_clips",
    "score_predictions",
    "score_submission",
    "submission_filename",
    "validate_csv",
    "validate_generation_folder",
    "validate_submission",
    "write_fewshot_submission",
    "write_generated_clips",
    "write_multitask_submission",
]
