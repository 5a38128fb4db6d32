"""Official scores of a CSV submission against the labels of a split.

Multitask: mean and per-emotion CCC, country UAR, age MAE and S_MTL; few-shot: mean and per-emotion
CCC over the query clips. CCC is the population (textbook) form unless `ccc_variant="reference"` asks
for the multitask reference script's form (see `exvo_jax.metrics.regression`). `reference_rounding`
reproduces the official script's reporting: each per-emotion CCC is rounded to 4 decimals before averaging,
S_MTL is computed from those CCCs with the unrounded UAR and MAE and rounded once, and the other reported
values are rounded to 4 decimals.

Test labels are blinded in the real release; a synthetic corpus ships them as `test_labels.csv`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exvo_jax import metrics
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import TEST_LABELS, Corpus, label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS, NUM_COUNTRIES
from exvo_jax.metrics.scores import reported_s_mtl
from exvo_jax.submission.formats import MULTITASK
from exvo_jax.submission.validate import Predictions, validate_csv

REFERENCE_DECIMALS = 4
PROBLEMS_SHOWN = 10


def load_scoring_corpus(data_dir: str | Path, split: str) -> Corpus:
    """The release with labels for `split`; Test needs `test_labels.csv` (present in synthetic corpora only)."""
    root = Path(data_dir)
    if split == "Test":
        if not (root / TEST_LABELS).exists():
            raise DataError(
                f"{root / TEST_LABELS}: file is missing - Test labels are blinded in the release, so Test "
                "predictions cannot be scored locally (score the Val split instead)"
            )
        return read_release(root, test_labels=True)
    return read_release(root)


def read_predictions(path: str | Path, corpus: Corpus, split: str, track: str) -> Predictions:
    """Validated predictions of a CSV; a one-line `DataError` with the first problems when it is invalid or
    of another track (`exvo-jax validate-submission` lists them all)."""
    report = validate_csv(path, corpus, split)
    if report.errors or report.predictions is None:
        shown = "; ".join(str(p).removeprefix(f"{path}: ") for p in report.errors[:PROBLEMS_SHOWN])
        more = f"; and {len(report.errors) - PROBLEMS_SHOWN} more" if len(report.errors) > PROBLEMS_SHOWN else ""
        raise DataError(f"{path}: invalid submission ({len(report.errors)} problem(s)): {shown}{more}")
    if report.track != track:
        raise DataError(f"{path}: a {report.track} submission, but {track} scores were asked for")
    return report.predictions


def _round(value: float, decimals: int | None) -> float:
    return value if decimals is None else round(value, decimals)


def score_predictions(
    predictions: Predictions,
    corpus: Corpus,
    ccc_variant: str = "population",
    reference_rounding: bool = False,
) -> dict:
    """Scores of validated predictions: `ccc`, `ccc_per_emotion` (and `uar`, `mae`, `s_mtl` for multitask)."""
    index = corpus.by_id()
    labels = label_arrays([index[i] for i in predictions.file_ids])
    decimals = REFERENCE_DECIMALS if reference_rounding else None
    raw_ccc = np.asarray(metrics.ccc(labels["emotions"], predictions.emotions, variant=ccc_variant), np.float64)
    per_emotion = [_round(float(v), decimals) for v in raw_ccc]
    scores: dict = {
        "ccc": _round(float(np.mean(per_emotion)), decimals),
        "ccc_per_emotion": dict(zip(EMOTIONS, per_emotion)),
    }
    if predictions.track == MULTITASK:
        uar = float(metrics.uar(labels["country"], predictions.country, NUM_COUNTRIES))
        mae = float(metrics.mae(labels["age"], predictions.age))
        # The official script rounds each emotion's CCC and the final S_MTL only, never UAR or MAE inside it.
        s_mtl = reported_s_mtl(raw_ccc, uar, mae, reference_rounding=reference_rounding)
        scores.update(uar=_round(uar, decimals), mae=_round(mae, decimals), s_mtl=s_mtl)
    return scores


def score_submission(
    path: str | Path,
    data_dir: str | Path,
    split: str,
    track: str,
    ccc_variant: str = "population",
    reference_rounding: bool = False,
) -> dict:
    """Reads the labels of `split`, validates the CSV for `track` and scores it."""
    if ccc_variant not in metrics.CCC_VARIANTS:
        raise ValueError(f"unknown CCC variant {ccc_variant!r} (expected one of {', '.join(metrics.CCC_VARIANTS)})")
    corpus = load_scoring_corpus(data_dir, split)
    predictions = read_predictions(path, corpus, split, track)
    return score_predictions(predictions, corpus, ccc_variant, reference_rounding)
