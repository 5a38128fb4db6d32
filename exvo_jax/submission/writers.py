"""Writers for the three submission formats; every file is written atomically."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exvo_jax.atomic import write_text
from exvo_jax.data.audio import write_wav
from exvo_jax.data.release import bracket_id
from exvo_jax.data.schema import EMOTIONS, NUM_COUNTRIES, NUM_EMOTIONS, SAMPLE_RATE
from exvo_jax.submission.formats import CLIPS_PER_EMOTION, COLUMNS, FEWSHOT, MULTITASK, generated_clip_name


def _check_rows(file_ids: Sequence[str], emotions: np.ndarray) -> np.ndarray:
    emotions = np.asarray(emotions, np.float64)
    if emotions.shape != (len(file_ids), NUM_EMOTIONS):
        raise ValueError(f"emotions must have shape [{len(file_ids)}, {NUM_EMOTIONS}], got {emotions.shape}")
    if not np.all(np.isfinite(emotions)):
        raise ValueError("emotion predictions contain NaN or infinite values")
    return emotions


def _write_csv(path: str | Path, header: Sequence[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text(path, buffer.getvalue())
    return Path(path)


def write_multitask_submission(path: str | Path, file_ids: Sequence[str], country, age, emotions) -> Path:
    """`File_ID,Country,Age,<10 emotions>`: country [N] class indices or logits [N, 4], age [N], emotions [N, 10]."""
    emotions = _check_rows(file_ids, emotions)
    country = np.asarray(country)
    if country.ndim == 2:
        country = country.argmax(axis=-1)
    age = np.asarray(age, np.float64).reshape(-1)
    if country.shape != (len(file_ids),) or age.shape != (len(file_ids),):
        raise ValueError(f"country and age need {len(file_ids)} values, got {country.shape} and {age.shape}")
    if not np.all((country >= 0) & (country < NUM_COUNTRIES)):
        raise ValueError(f"country indices must lie in 0..{NUM_COUNTRIES - 1}")
    if not np.all(np.isfinite(age)):
        raise ValueError("age predictions contain NaN or infinite values")
    rows = [
        [bracket_id(i), str(int(c)), repr(float(a)), *(repr(float(v)) for v in e)]
        for i, c, a, e in zip(file_ids, country, age, emotions)
    ]
    return _write_csv(path, COLUMNS[MULTITASK], rows)


def write_fewshot_submission(path: str | Path, file_ids: Sequence[str], emotions) -> Path:
    """`File_ID,<10 emotions>` for the query clips."""
    emotions = _check_rows(file_ids, emotions)
    rows = [[bracket_id(i), *(repr(float(v)) for v in e)] for i, e in zip(file_ids, emotions)]
    return _write_csv(path, COLUMNS[FEWSHOT], rows)


def write_generated_clips(
    out_dir: str | Path,
    clips: Mapping[str, Sequence[np.ndarray]],
    clips_per_emotion: int = CLIPS_PER_EMOTION,
) -> list[Path]:
    """Writes `<out_dir>/<Emotion>/<Emotion>_<k>.wav` (16 kHz) for each targeted emotion's waveforms [T]."""
    unknown = [e for e in clips if e not in EMOTIONS]
    if unknown:
        raise ValueError(f"unknown emotions {', '.join(unknown)} (expected names from {', '.join(EMOTIONS)})")
    for emotion, waves in clips.items():
        if len(waves) != clips_per_emotion:
            raise ValueError(f"{emotion}: {len(waves)} clips, expected {clips_per_emotion}")
        for k, wave in enumerate(waves):
            wave = np.asarray(wave)
            if wave.ndim != 1 or wave.size == 0 or not np.all(np.isfinite(wave)):
                raise ValueError(f"{emotion} clip {k}: expected a non-empty finite mono waveform [T], got shape {wave.shape}")
    paths = []
    for emotion, waves in clips.items():
        for k, wave in enumerate(waves):
            path = Path(out_dir) / emotion / generated_clip_name(emotion, k)
            write_wav(path, np.asarray(wave, np.float32), SAMPLE_RATE)
            paths.append(path)
    return paths
