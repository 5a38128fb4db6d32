"""Table 4's yardsticks: the Train-mean predictor and a ridge regression on the clips' eGeMAPS functionals.

Neither sees a speaker's support clips. The first says what knowing nothing of a clip reaches (a
constant: CCC 0); the second what a linear model on standard acoustic functionals reaches, the bar a
network trained on raw audio should clear. The ridge regression maps functionals, standardised on
Train, to the ten intensities (closed-form `exvo_jax.models.ridge.ridge_paths`); it is fit on the
Train clips, its strength chosen on the selection split's query clips, and both rows are scored on the
query clips of every split like the other Table 4 rows (population CCC of the predictions as submitted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exvo_jax.data.release import Clip, Corpus
from exvo_jax.features.corpus import computed_features, has_official, official_features
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.models.ridge import ridge_paths
from exvo_jax.tracks.fewshot.report import score_row
from exvo_jax.tracks.fewshot.config import FewshotSettings

TRIVIAL = "Train mean"


def protocol_functionals(settings: FewshotSettings, corpus: Corpus, splits: Mapping[str, Sequence[Clip]],
                         workdir: str | Path, progress: bool = False) -> dict[str, np.ndarray]:
    """Functionals `[N, D]` (`settings.yardstick.feature_set`) of each protocol split's clips, all from one source.

    The release's own CSVs when every clip used has one, else computed from audio for all of them (one
    extractor for Train and the scored splits) and cached under `settings.cache_dir` (empty:
    `<workdir>/feature_cache`).
    """
    feature_set = settings.yardstick.feature_set
    cache = Path(settings.cache_dir or Path(workdir) / "feature_cache")
    if all(has_official(corpus, clips, feature_set) for clips in splits.values()):
        return {name: official_features(corpus, clips, feature_set, cache, pack=name, progress=progress)
                for name, clips in splits.items()}
    return {name: computed_features(corpus, clips, feature_set, cache, pack=name, workers=settings.workers or None,
                                    progress=progress)
            for name, clips in splits.items()}


def yardstick_rows(settings: FewshotSettings, functionals: Mapping[str, np.ndarray],
                   targets: Mapping[str, np.ndarray], evaluated: Sequence, names: Sequence[str]) -> tuple[list, list]:
    """(Table 4 rows for each evaluated split - Train mean, then the ridge yardstick -, each strength's score).

    `evaluated` are the selection split then the report split, each with `split` and `query_index`
    (clip indices of its pooled query targets); the strength is chosen on the first.
    """
    scaler = StandardScaler.fit(functionals["Train"])
    truths = [targets[data.split][data.query_index] for data in evaluated]
    inputs = [scaler.transform(functionals[data.split][data.query_index]) for data in evaluated]
    paths = ridge_paths(scaler.transform(functionals["Train"]), targets["Train"], settings.yardstick.alphas, *inputs)
    scores = [{"alpha": float(alpha), "val_mean_ccc": score_row("", "", "", names, truths[0], path[0])["mean_ccc"]}
              for alpha, path in zip(settings.yardstick.alphas, paths)]
    best = int(np.argmax([s["val_mean_ccc"] for s in scores]))
    model, setting = f"{settings.yardstick.feature_set} ridge", f"linear yardstick (alpha={scores[best]['alpha']:g})"
    train_mean = targets["Train"].mean(0)
    rows = [[score_row(TRIVIAL, "trivial predictor", data.split, names, truth,
                       np.broadcast_to(train_mean, truth.shape)),
             score_row(model, setting, data.split, names, truth, prediction)]
            for data, truth, prediction in zip(evaluated, truths, paths[best])]
    return rows, scores
