"""Reader for the HUME-VB release layout: `data_info.csv`, `wav/<id>.wav`, optional `feats/<Set>/<id>.csv`.

Columns are selected by name; `File_ID` may carry square brackets; `Country` may be a code 0..3 or a
name; Test rows may have blank labels. Records are plain dataclasses holding numpy arrays. Every
problem is a `DataError` naming the file and row: a non-UTF-8 byte, an empty or header-only file, and
ids that are not plain file names (they would open audio and write caches outside their folders).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from exvo_jax.data.errors import DataError, Problems, location, read_text
from exvo_jax.data.schema import (
    COL_AGE,
    COL_COUNTRY,
    COL_FILE_ID,
    COL_SPEAKER,
    COL_SPLIT,
    COUNTRIES,
    EMOTIONS,
    FEATURE_SETS,
    REQUIRED_COLUMNS,
    SPLITS,
)

DATA_INFO = "data_info.csv"
TEST_LABELS = "test_labels.csv"


@dataclasses.dataclass(frozen=True)
class Clip:
    """One clip of the release. Labels are None where blinded (Test rows)."""

    file_id: str  # without brackets, e.g. "58712"
    split: str  # "Train" | "Val" | "Test"
    speaker: str
    age: float | None
    country: int | None  # index into COUNTRIES
    emotions: np.ndarray | None  # [10] float32 in EMOTIONS order
    wav_path: Path

    @property
    def labelled(self) -> bool:
        return self.emotions is not None and self.age is not None and self.country is not None


@dataclasses.dataclass(frozen=True)
class Corpus:
    """All clips of a release folder, in file order."""

    root: Path
    clips: tuple[Clip, ...]

    def split(self, name: str) -> tuple[Clip, ...]:
        if name not in SPLITS:
            raise DataError(f"unknown split {name!r} (expected one of {', '.join(SPLITS)})")
        return tuple(c for c in self.clips if c.split == name)

    def by_id(self) -> dict[str, Clip]:
        return {c.file_id: c for c in self.clips}

    def feature_path(self, feature_set: str, file_id: str) -> Path:
        return self.root / "feats" / feature_set / f"{file_id}.csv"

    def with_labels(self, labels: Sequence[Clip]) -> Corpus:
        """A copy where clips are replaced by labelled versions (matched by id), e.g. from test_labels.csv."""
        index = {c.file_id: c for c in labels}
        clips = tuple(
            dataclasses.replace(c, age=index[c.file_id].age, country=index[c.file_id].country,
                                emotions=index[c.file_id].emotions)
            if c.file_id in index else c
            for c in self.clips
        )
        return Corpus(self.root, clips)


def strip_id(raw: str) -> str:
    """`[58712]` -> `58712`; ids without brackets pass unchanged."""
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1].strip()
    return raw


def id_problem(file_id: str) -> str | None:
    """Why `file_id` cannot name a file in its folder (`wav/<id>.wav`, caches), or None for a plain name."""
    if "/" in file_id or "\\" in file_id or "\0" in file_id or file_id in (".", ".."):
        return f"File_ID {file_id!r} is not a plain file name (no '/', '\\', NUL, '.' or '..')"
    return None


def bracket_id(file_id: str) -> str:
    """`58712` -> `[58712]`, the form written in data_info.csv and submissions."""
    return f"[{strip_id(file_id)}]"


def parse_country(raw: str) -> int:
    """Country code 0..3 (also `2.0`) or name (case-insensitive) to an index into COUNTRIES."""
    text = raw.strip()
    names = {name.lower(): i for i, name in enumerate(COUNTRIES)}
    if text.lower() in names:
        return names[text.lower()]
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"unknown country {raw!r} (expected 0..3 or one of {', '.join(COUNTRIES)})") from None
    if value.is_integer() and 0 <= int(value) < len(COUNTRIES):
        return int(value)
    raise DataError(f"unknown country {raw!r} (expected 0..3 or one of {', '.join(COUNTRIES)})")


def _blank(text: str | None) -> bool:
    return text is None or text.strip() == "" or text.strip().lower() == "nan"


_INVALID = object()


def _parse_labels(row: dict[str, str], split: str, where: str, problems: Problems):
    """(age, country, emotions) of a row: Nones for blinded Test labels, `_INVALID` after a problem."""
    label_columns = (COL_AGE, COL_COUNTRY) + EMOTIONS
    blanks = [c for c in label_columns if _blank(row.get(c))]
    if blanks:
        if split == "Test" and len(blanks) == len(label_columns):
            return None, None, None
        if split == "Test":
            problems.add(where, f"partially blank labels on a Test row: {', '.join(blanks)}")
        else:
            problems.add(where, f"NaN or empty labels on a {split} row: {', '.join(blanks)}")
        return _INVALID
    try:
        age = float(row[COL_AGE])
    except ValueError:
        problems.add(where, f"age {row[COL_AGE]!r} is not a number")
        return _INVALID
    if not math.isfinite(age) or age <= 0:
        problems.add(where, f"age {row[COL_AGE]!r} is not a positive finite number")
        return _INVALID
    try:
        country = parse_country(row[COL_COUNTRY])
    except DataError as err:
        problems.add(where, str(err))
        return _INVALID
    try:
        emotions = np.array([float(row[e]) for e in EMOTIONS], dtype=np.float32)
    except ValueError:
        problems.add(where, "an emotion intensity is not a number")
        return _INVALID
    bad = [f"{e}={v:g}" for e, v in zip(EMOTIONS, emotions) if not (0.0 <= v <= 1.0)]
    if bad:
        problems.add(where, f"emotion intensities outside [0, 1]: {', '.join(bad)}")
        return _INVALID
    return age, country, emotions


def read_data_info(
    csv_path: str | Path, wav_dir: str | Path | None = None, problems: Problems | None = None
) -> tuple[Clip, ...]:
    """Parses a data_info.csv-shaped file into clips (the audio is not opened here)."""
    csv_path = Path(csv_path)
    wav_dir = Path(wav_dir) if wav_dir is not None else csv_path.parent / "wav"
    problems = problems if problems is not None else Problems()
    if not csv_path.exists():
        raise DataError(f"{csv_path}: file is missing")
    text = read_text(csv_path)
    if not text.strip():
        raise DataError(f"{csv_path}: empty file (expected a header line, then one row per clip)")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(f"{csv_path}: missing columns {', '.join(missing)}")
    clips: list[Clip] = []
    seen: dict[str, int] = {}
    row_number = 0
    for row_number, row in enumerate(reader, start=1):
        where = location(csv_path, row_number)
        file_id = strip_id(row[COL_FILE_ID] or "")
        if not file_id:
            problems.add(where, "empty File_ID")
            continue
        if (problem := id_problem(file_id)) is not None:
            problems.add(where, problem)
            continue
        if file_id in seen:
            problems.add(where, f"duplicate File_ID {file_id!r} (first at row {seen[file_id]})")
            continue
        seen[file_id] = row_number
        split = (row[COL_SPLIT] or "").strip()
        if split not in SPLITS:
            problems.add(where, f"unknown split {split!r} (expected one of {', '.join(SPLITS)})")
            continue
        speaker = (row[COL_SPEAKER] or "").strip()
        if not speaker:
            problems.add(where, "empty Subject_ID")
            continue
        labels = _parse_labels(row, split, where, problems)
        if labels is _INVALID:
            continue
        age, country, emotions = labels
        clips.append(Clip(file_id, split, speaker, age, country, emotions, wav_dir / f"{file_id}.wav"))
    if row_number == 0:
        problems.add(str(csv_path), "no clips (a header line and no rows)")
    return tuple(clips)


def read_release(root: str | Path, *, problems: Problems | None = None, test_labels: bool = False) -> Corpus:
    """Reads a release folder. With `test_labels`, Test labels come from `test_labels.csv` (synthetic corpus)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: release folder is missing")
    problems = problems if problems is not None else Problems()
    corpus = Corpus(root, read_data_info(root / DATA_INFO, root / "wav", problems))
    if test_labels:
        path = root / TEST_LABELS
        if not path.exists():
            raise DataError(f"{path}: file is missing (Test labels are blinded in the real release)")
        corpus = corpus.with_labels(read_data_info(path, root / "wav", problems))
    return corpus


def read_feature_csv(path: str | Path) -> np.ndarray:
    """One `feats/<Set>/<id>.csv` file (header line, then `name,<floats>`) as a float32 vector."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: feature file is missing")
    lines = [ln for ln in read_text(path).splitlines() if ln.strip()]
    if len(lines) < 2:
        raise DataError(f"{path}: expected a header line and one data row")
    name, *values = lines[1].split(",")
    if "|" in name:  # `<set>|<version>|<hash>`: a row of exvo_jax's feature cache, not a shipped file
        raise DataError(f"{path}: written by the exvo_jax feature cache, not shipped with the release")
    try:
        vector = np.array([float(v) for v in values], dtype=np.float32)
    except ValueError as err:
        raise DataError(f"{path}: non-numeric feature value ({err})") from None
    if not np.all(np.isfinite(vector)):
        raise DataError(f"{path}: NaN or infinite feature values")
    return vector


def read_features(corpus: Corpus, feature_set: str, clips: Iterable[Clip]) -> np.ndarray:
    """Stacks precomputed release features for `clips`: [N, D]; checks D against the known set size."""
    rows = [read_feature_csv(corpus.feature_path(feature_set, c.file_id)) for c in clips]
    features = np.stack(rows) if rows else np.zeros((0, FEATURE_SETS.get(feature_set, 0)), np.float32)
    expected = FEATURE_SETS.get(feature_set)
    if expected is not None and features.shape[1] != expected:
        raise DataError(f"{corpus.root / 'feats' / feature_set}: {features.shape[1]} features, expected {expected}")
    return features


def label_arrays(clips: Sequence[Clip]) -> dict[str, np.ndarray]:
    """Stacked labels of labelled clips: emotions [N, 10], age [N], country [N]."""
    unlabelled = [c.file_id for c in clips if not c.labelled]
    if unlabelled:
        raise DataError(f"clips without labels: {', '.join(unlabelled[:5])}{' ...' if len(unlabelled) > 5 else ''}")
    return {
        "emotions": np.stack([c.emotions for c in clips]).astype(np.float32) if clips else np.zeros((0, len(EMOTIONS)), np.float32),
        "age": np.array([c.age for c in clips], dtype=np.float32),
        "country": np.array([c.country for c in clips], dtype=np.int32),
    }
