"""Submission validation: exact columns, every required clip once, no extras, values in range.

The track of a CSV is decided from its header. Required clips: every clip of the split (multitask),
or every query clip of the split, i.e. all but the first 2 clips of each speaker in file order
(few-shot). A generation submission is a folder checked for its per-emotion layout. Each problem
names the file and row (data rows count from 1, the header being row 0); a file that is not UTF-8
text is a `DataError` naming the row of the first bad byte.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import numpy as np

from exvo_jax.data.audio import read_audio_info
from exvo_jax.data.errors import DataError, Problem, Problems, location, read_text
from exvo_jax.data.release import Clip, Corpus, bracket_id, strip_id
from exvo_jax.data.schema import COL_AGE, COL_COUNTRY, EMOTIONS, NUM_COUNTRIES, SAMPLE_RATE
from exvo_jax.data.speakers import support_query
from exvo_jax.submission.formats import (
    CLIPS_PER_EMOTION,
    COLUMNS,
    FEWSHOT,
    GENERATE,
    MULTITASK,
    PLAUSIBLE_AGE,
    generated_clip_name,
    track_of_header,
)

FEW_SHOT_SUPPORT = 2
MISSING_LISTED = 10  # missing ids named in a report before it summarises the rest


@dataclasses.dataclass(frozen=True)
class Predictions:
    """Parsed rows of a valid CSV submission, in file order (ids without brackets)."""

    track: str
    file_ids: tuple[str, ...]
    emotions: np.ndarray  # [N, 10]
    age: np.ndarray | None  # [N], multitask only
    country: np.ndarray | None  # [N] class indices, multitask only


@dataclasses.dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one submission: its track, parsed predictions and every problem found."""

    path: Path
    track: str | None
    problems: tuple[Problem, ...]
    predictions: Predictions | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return self.track is not None and not self.errors


def required_clips(corpus: Corpus, split: str, track: str) -> tuple[Clip, ...]:
    """Clips a submission must cover: the whole split (multitask) or its query clips (few-shot).

    Few-shot support: where only some clips of the split are labelled (Test with its released support
    labels), the labelled clips are the support wherever they sit; where all are, the first two per speaker.
    """
    clips = corpus.split(split)
    if track == MULTITASK:
        return clips
    if track == FEWSHOT:
        partly_labelled = any(c.labelled for c in clips) and not all(c.labelled for c in clips)
        episodes = (support_query(clips, shots=FEW_SHOT_SUPPORT, support="labelled", labelled=lambda c: c.labelled)
                    if partly_labelled else support_query(clips, shots=FEW_SHOT_SUPPORT))
        return tuple(c for episode in episodes for c in episode.query)
    raise ValueError(f"unknown CSV track {track!r}")


def _header_problem(header: list[str]) -> str:
    expected = " | ".join(f"{track}: {','.join(cols)}" for track, cols in COLUMNS.items())
    for track, columns in COLUMNS.items():
        if sorted(header) == sorted(columns):
            return f"columns of a {track} submission in the wrong order: expected {','.join(columns)}"
    return f"columns {','.join(header) or '(none)'} match no track; expected exactly {expected}"


def _parse_float(text: str, column: str, where: str, problems: Problems) -> float | None:
    try:
        value = float(text)
    except ValueError:
        problems.add(where, f"{column} {text!r} is not a number")
        return None
    if not math.isfinite(value):
        problems.add(where, f"{column} is {text!r} (must be finite)")
        return None
    return value


def _parse_row(row: list[str], track: str, where: str, problems: Problems):
    """(emotions, age, country) of a row, or None after recording its problems."""
    columns = COLUMNS[track]
    if len(row) != len(columns):
        problems.add(where, f"expected {len(columns)} fields, got {len(row)}")
        return None
    values = dict(zip(columns, row))
    ok = True
    emotions = []
    for emotion in EMOTIONS:
        value = _parse_float(values[emotion], emotion, where, problems)
        if value is not None and not 0.0 <= value <= 1.0:
            problems.add(where, f"{emotion}={value:g} outside [0, 1]")
            value = None
        ok &= value is not None
        emotions.append(value)
    age = country = None
    if track == MULTITASK:
        age = _parse_float(values[COL_AGE], COL_AGE, where, problems)
        if age is not None and not PLAUSIBLE_AGE[0] <= age <= PLAUSIBLE_AGE[1]:
            problems.add(where, f"Age={age:g} is implausible (expected {PLAUSIBLE_AGE[0]:g}..{PLAUSIBLE_AGE[1]:g} years)")
            age = None
        code = _parse_float(values[COL_COUNTRY], COL_COUNTRY, where, problems)
        if code is not None and not (code.is_integer() and 0 <= code < NUM_COUNTRIES):
            problems.add(where, f"Country={values[COL_COUNTRY]!r} is not a class index 0..{NUM_COUNTRIES - 1}")
            code = None
        country = None if code is None else int(code)
        ok &= age is not None and country is not None
    return (emotions, age, country) if ok else None


def validate_csv(path: str | Path, corpus: Corpus, split: str = "Test") -> ValidationReport:
    """Checks a multitask or few-shot CSV against the clips of `split`; collects every problem."""
    path = Path(path)
    problems = Problems(collect=True)
    if not path.is_file():
        raise DataError(f"{path}: submission file is missing")
    with io.StringIO(read_text(path), newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        track = track_of_header(header)
        if track is None:
            problems.add(location(path, 0), _header_problem(header))
            return ValidationReport(path, None, tuple(problems.items))
        required = {c.file_id for c in required_clips(corpus, split, track)}
        all_ids = corpus.by_id()
        seen: dict[str, int] = {}
        parsed: dict[str, tuple] = {}
        for row_number, row in enumerate(reader, start=1):
            where = location(path, row_number)
            if not row or all(not field.strip() for field in row):
                problems.add(where, "empty row")
                continue
            raw_id = row[0].strip()
            file_id = strip_id(raw_id)
            if not file_id:
                problems.add(where, "empty File_ID")
                continue
            if raw_id != bracket_id(file_id):
                problems.add(where, f"File_ID {raw_id!r} should be written with brackets, {bracket_id(file_id)}", "warning")
            if file_id in seen:
                problems.add(where, f"duplicate File_ID {bracket_id(file_id)} (first at row {seen[file_id]})")
                continue
            seen[file_id] = row_number
            if file_id not in required:
                if file_id not in all_ids:
                    reason = "unknown clip"
                elif all_ids[file_id].split != split:
                    reason = f"a {all_ids[file_id].split} clip"
                else:
                    reason = "a few-shot support clip (only query clips are predicted)"
                problems.add(where, f"File_ID {bracket_id(file_id)} is not required for the {split} split: {reason}")
                continue
            values = _parse_row(row, track, where, problems)
            if values is not None:
                parsed[file_id] = values
    missing = [c for c in sorted(required - set(seen), key=str)]
    if missing:
        named = ", ".join(bracket_id(i) for i in missing[:MISSING_LISTED])
        more = f" and {len(missing) - MISSING_LISTED} more" if len(missing) > MISSING_LISTED else ""
        problems.add(str(path), f"{len(missing)} required {split} clip(s) have no prediction: {named}{more}")
    predictions = None
    if not problems.errors:
        order = [i for i in seen if i in parsed]
        predictions = Predictions(
            track,
            tuple(order),
            np.array([parsed[i][0] for i in order], np.float32).reshape(-1, len(EMOTIONS)),
            np.array([parsed[i][1] for i in order], np.float32) if track == MULTITASK else None,
            np.array([parsed[i][2] for i in order], np.int32) if track == MULTITASK else None,
        )
    return ValidationReport(path, track, tuple(problems.items), predictions)


def validate_generation_folder(path: str | Path, clips_per_emotion: int = CLIPS_PER_EMOTION) -> ValidationReport:
    """Checks `<path>/<Emotion>/<Emotion>_<k>.wav`: known emotions, the clip count, 16 kHz mono audio."""
    path = Path(path)
    problems = Problems(collect=True)
    folders = sorted(p for p in path.iterdir() if p.is_dir())
    if not folders:
        problems.add(str(path), "no emotion folders")
    for folder in folders:
        if folder.name not in EMOTIONS:
            problems.add(str(folder), f"unknown emotion folder (expected names from {', '.join(EMOTIONS)})")
            continue
        expected = {generated_clip_name(folder.name, k) for k in range(clips_per_emotion)}
        present = {p.name for p in folder.glob("*.wav")}
        if present != expected:
            missing, extra = sorted(expected - present), sorted(present - expected)
            detail = "; ".join(filter(None, [
                f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}" if missing else "",
                f"unexpected {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}" if extra else "",
            ]))
            problems.add(str(folder), f"{len(present)} wav files, expected {clips_per_emotion} ({detail})")
        for name in sorted(present & expected):
            try:
                info = read_audio_info(folder / name)
            except DataError as err:
                problems.add(str(folder / name), str(err).split(": ", 1)[-1])
                continue
            if info.samplerate != SAMPLE_RATE or info.channels != 1:
                problems.add(str(folder / name), f"{info.samplerate} Hz, {info.channels} channel(s); expected {SAMPLE_RATE} Hz mono")
    return ValidationReport(path, GENERATE, tuple(problems.items))


def validate_submission(path: str | Path, corpus: Corpus | None, split: str = "Test",
                        clips_per_emotion: int = CLIPS_PER_EMOTION) -> ValidationReport:
    """A folder is a generation submission; a file is a multitask or few-shot CSV (needs `corpus`)."""
    path = Path(path)
    if path.is_dir():
        return validate_generation_folder(path, clips_per_emotion)
    if corpus is None:
        raise ValueError("validating a CSV submission needs the corpus")
    return validate_csv(path, corpus, split)
