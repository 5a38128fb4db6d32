"""Submission formats of the three ExVo tracks: file names, exact CSV headers, the generation folder layout.

* Multitask: `ExVo-Multi_<team>_<n>.csv` with columns `File_ID,Country,Age,<10 emotions>`; Country is
  the class index 0..3 (order of `COUNTRIES`), Age in years, emotions in [0, 1].
* Few-shot: `ExVo-Few_<team>_<n>.csv` with columns `File_ID,<10 emotions>`, one row per query clip.
* Generation: a folder with one sub-folder per targeted emotion holding `<Emotion>_<k>.wav`
  (16 kHz mono, k = 0000, 0001, ...), 100 clips per emotion unless configured otherwise.
Ids are written with brackets, e.g. `[58712]`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from exvo_jax.data.schema import COL_AGE, COL_COUNTRY, COL_FILE_ID, EMOTIONS

MULTITASK = "multitask"
FEWSHOT = "fewshot"
GENERATE = "generate"
CSV_TRACKS: tuple[str, ...] = (MULTITASK, FEWSHOT)

COLUMNS: dict[str, tuple[str, ...]] = {
    MULTITASK: (COL_FILE_ID, COL_COUNTRY, COL_AGE) + EMOTIONS,
    FEWSHOT: (COL_FILE_ID,) + EMOTIONS,
}
FILE_PREFIX: dict[str, str] = {MULTITASK: "ExVo-Multi", FEWSHOT: "ExVo-Few"}

CLIPS_PER_EMOTION = 100
PLAUSIBLE_AGE = (1.0, 120.0)  # years; predictions outside are rejected as implausible
TEAM_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")


def submission_filename(track: str, team: str, number: int) -> str:
    """`ExVo-Multi_<team>_<n>.csv` / `ExVo-Few_<team>_<n>.csv`; the team name may not contain `_`."""
    if track not in FILE_PREFIX:
        raise ValueError(f"unknown track {track!r} (expected one of {', '.join(FILE_PREFIX)})")
    if not TEAM_PATTERN.match(team):
        raise ValueError(f"team name {team!r} must be letters, digits and '-' only")
    if number < 1:
        raise ValueError(f"submission number must be >= 1, got {number}")
    return f"{FILE_PREFIX[track]}_{team}_{number}.csv"


def generated_clip_name(emotion: str, index: int) -> str:
    return f"{emotion}_{index:04d}.wav"


def track_of_header(header: Sequence[str]) -> str | None:
    """The CSV track whose exact column list (names and order) is `header`, or None."""
    for track, columns in COLUMNS.items():
        if tuple(header) == columns:
            return track
    return None
