"""HEEP from human ratings or from the classifier, and S_Gen per emotion, labelled by where HEEP came from.

HEEP_e is the Pearson correlation between the one-hot targets and the mean intensity ratings of the clips
generated for emotion e (`exvo_jax.metrics.heep_per_emotion`); S_Gen_e = (1/FID_e + HEEP_e) / 2.

* Human ratings: a CSV with a `File` column (the generated file's name, e.g. `Fear_0000.wav`) and the ten
  emotion columns (by name, any order) holding mean intensity ratings in [0, 1], one row per generated
  file. `read_ratings` checks every row and names the file, row and problem of the first error.
* Automatic proxy: the trained classifier rates each generated clip (its ten outputs clipped to [0, 1]).
  It measures whether the recogniser hears the targeted emotion, not what people hear, so results carry
  their `heep_source`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exvo_jax.data.errors import DataError, location, read_text
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.metrics import heep_per_emotion, s_gen

FILE_COLUMN = "File"
HUMAN, PROXY = "human ratings", "proxy: classifier ratings"


def read_ratings(path: str | Path, files: Sequence[str | Path]) -> np.ndarray:
    """Mean ratings `[N, 10]` (EMOTIONS order) of `files` (matched by file name) from the ratings CSV at `path`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: ratings file not found")
    reader = csv.DictReader(io.StringIO(read_text(path)))
    columns = reader.fieldnames or []
    missing = [c for c in (FILE_COLUMN, *EMOTIONS) if c not in columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (expected {FILE_COLUMN} and the ten emotions)")
    wanted = {Path(f).name: i for i, f in enumerate(files)}
    ratings = np.full((len(files), len(EMOTIONS)), np.nan)
    for row_number, row in enumerate(reader, start=1):
        where = location(path, row_number)
        name = (row[FILE_COLUMN] or "").strip()
        if name not in wanted:
            raise DataError(f"{where}: {name!r} is not one of the generated files")
        if not np.isnan(ratings[wanted[name], 0]):
            raise DataError(f"{where}: {name!r} is rated twice")
        for k, emotion in enumerate(EMOTIONS):
            try:
                value = float(row[emotion])
            except (TypeError, ValueError):
                raise DataError(f"{where}: {emotion} {row[emotion]!r} is not a number") from None
            if not 0.0 <= value <= 1.0:
                raise DataError(f"{where}: {emotion} {value:g} is outside [0, 1]")
            ratings[wanted[name], k] = value
    unrated = [Path(f).name for f, r in zip(files, ratings) if np.isnan(r[0])]
    if unrated:
        raise DataError(f"{path}: no ratings for {len(unrated)} generated file(s), e.g. {', '.join(unrated[:3])}")
    return ratings


def proxy_ratings(outputs: np.ndarray) -> np.ndarray:
    """The classifier's emotion outputs `[N, 10]` as intensity ratings in [0, 1]."""
    return np.clip(np.asarray(outputs, np.float64), 0.0, 1.0)


def heep_scores(targets: Sequence[str], ratings: np.ndarray) -> dict[str, float]:
    """HEEP per targeted emotion (only the emotions present in `targets`)."""
    index = np.array([EMOTIONS.index(t) for t in targets])
    values = np.asarray(heep_per_emotion(index, np.asarray(ratings, np.float32)))
    return {e: float(values[EMOTIONS.index(e)]) for e in dict.fromkeys(targets)}


def s_gen_scores(fid: Mapping[str, float], heep: Mapping[str, float], source: str) -> dict:
    """S_Gen per emotion and their mean from per-emotion FID and HEEP, labelled with the HEEP `source`."""
    emotions = [e for e in fid if e in heep]
    per_emotion = {e: {"fid": float(fid[e]), "heep": float(heep[e]), "s_gen": float(s_gen(fid[e], heep[e]))}
                   for e in emotions}
    mean = float(np.mean([v["s_gen"] for v in per_emotion.values()])) if per_emotion else math.nan
    return {"heep_source": source, "per_emotion": per_emotion, "mean_s_gen": mean}
