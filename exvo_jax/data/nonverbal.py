"""Reader for the Deeply nonverbal-vocalisation corpus: `<class>/<file>.wav` with labels in the file name.

File names are `{speaker}_{class}_{trial}_{sex}_{age}_{location}_{quality}_{noise}.wav`, where `class`
indexes VOCAL_TYPES (0..15), sex is 0=female 1=male, age is in years, location 0=indoor 1=outdoor,
quality 0=high 1=low and noise 0=noiseless 1=noisy. Labels are taken from each file name: the
metadata JSON shipped with the corpus disagrees with the file names for some speakers (and a few
speakers' clips disagree with each other by a year of age or in sex), so it is not read.

The split is speaker-disjoint and deterministic: `split_corpus(items)` gives the same
train/validation/test partition on every machine for the same files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from exvo_jax.data.errors import DataError
from exvo_jax.data.speakers import speaker_disjoint_split

VOCAL_TYPES: tuple[str, ...] = (
    "teeth-chattering",
    "teeth-grinding",
    "tongue-clicking",
    "nose-blowing",
    "coughing",
    "yawning",
    "throat-clearing",
    "sighing",
    "lip-popping",
    "lip-smacking",
    "panting",
    "crying",
    "laughing",
    "sneezing",
    "moaning",
    "screaming",
)
NUM_VOCAL_TYPES = len(VOCAL_TYPES)
SEXES: tuple[str, ...] = ("female", "male")
LOCATIONS: tuple[str, ...] = ("indoor", "outdoor")
QUALITIES: tuple[str, ...] = ("high", "low")
NOISE_LEVELS: tuple[str, ...] = ("noiseless", "noisy")

METADATA_FILE = "Nonverbal_Vocalization_metadata.json"
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
SPLIT_FRACTIONS: tuple[float, ...] = (0.7, 0.15, 0.15)
SPLIT_SEED = 0

_FIELDS = ("speaker", "class", "trial", "sex", "age", "location", "quality", "noise")


@dataclasses.dataclass(frozen=True)
class Vocalisation:
    """One clip and the labels encoded in its file name (categorical fields are indices)."""

    path: Path
    speaker: str
    vocal_type: int  # index into VOCAL_TYPES
    trial: int
    sex: int  # index into SEXES
    age: int  # years
    location: int  # index into LOCATIONS
    quality: int  # index into QUALITIES
    noise: int  # index into NOISE_LEVELS

    @property
    def file_id(self) -> str:
        """The file name without extension, unique within the corpus."""
        return self.path.stem

    @property
    def type_name(self) -> str:
        return VOCAL_TYPES[self.vocal_type]


def _index(path: Path, field: str, text: str, names: Sequence[str]) -> int:
    value = _integer(path, field, text)
    if not 0 <= value < len(names):
        raise DataError(f"{path}: {field} {text!r} out of range (expected 0..{len(names) - 1})")
    return value


def _integer(path: Path, field: str, text: str) -> int:
    if not text.isdigit():
        raise DataError(f"{path}: {field} {text!r} is not a non-negative integer")
    return int(text)


def parse_file_name(path: str | Path) -> Vocalisation:
    """Labels of one clip from its file name; `DataError` naming the file if the name is malformed."""
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise DataError(f"{path}: not a .wav file")
    parts = path.stem.split("_")
    if len(parts) != len(_FIELDS):
        raise DataError(
            f"{path}: expected {len(_FIELDS)} fields {'_'.join('{' + f + '}' for f in _FIELDS)}, got {len(parts)}"
        )
    speaker, vocal_type, trial, sex, age, location, quality, noise = parts
    if not speaker:
        raise DataError(f"{path}: empty speaker id")
    age_years = _integer(path, "age", age)
    if age_years == 0:
        raise DataError(f"{path}: age 0 is not a valid age in years")
    return Vocalisation(
        path=path,
        speaker=speaker,
        vocal_type=_index(path, "class", vocal_type, VOCAL_TYPES),
        trial=_integer(path, "trial", trial),
        sex=_index(path, "sex", sex, SEXES),
        age=age_years,
        location=_index(path, "location", location, LOCATIONS),
        quality=_index(path, "quality", quality, QUALITIES),
        noise=_index(path, "noise", noise, NOISE_LEVELS),
    )


def read_corpus(root: str | Path) -> tuple[Vocalisation, ...]:
    """Every clip under `root/<class>/`, sorted by class folder then file name.

    A file whose class field disagrees with its folder, a folder that is not a class name and an
    empty corpus are errors naming the path.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: corpus folder is missing")
    clips = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name not in VOCAL_TYPES:
            raise DataError(f"{folder}: folder is not one of the {NUM_VOCAL_TYPES} vocalisation types")
        for path in sorted(folder.glob("*.wav")):
            clip = parse_file_name(path)
            if clip.type_name != folder.name:
                raise DataError(f"{path}: class {clip.vocal_type} ({clip.type_name}) but folder {folder.name}")
            clips.append(clip)
    if not clips:
        raise DataError(f"{root}: no <class>/*.wav clips found")
    return tuple(clips)


def split_corpus(
    clips: Sequence[Vocalisation],
    fractions: Sequence[float] = SPLIT_FRACTIONS,
    seed: int = SPLIT_SEED,
    fold: int | None = None,
    folds: int = 5,
) -> dict[str, tuple[Vocalisation, ...]]:
    """{"train", "validation", "test"}: clips in input order, partitioned by speaker (default 70/15/15).

    With `fold` = k, the speakers are cut into `folds` equal groups instead (same seed): Test is group k,
    validation group k + 1 (cyclically), Train the others; the k's together test every speaker once.
    """
    if fold is not None:
        if not 0 <= fold < folds:
            raise ValueError(f"fold {fold} is not in 0..{folds - 1}")
        groups = speaker_disjoint_split([c.speaker for c in clips], [1 / folds] * folds, seed=seed)
        test, val = set(groups[fold]), set(groups[(fold + 1) % folds])
        return {"train": tuple(c for c in clips if c.speaker not in test | val),
                "validation": tuple(c for c in clips if c.speaker in val),
                "test": tuple(c for c in clips if c.speaker in test)}
    if len(fractions) != len(SPLIT_NAMES):
        raise ValueError(f"expected {len(SPLIT_NAMES)} fractions (train, validation, test), got {list(fractions)}")
    groups = speaker_disjoint_split([c.speaker for c in clips], fractions, seed=seed)
    split_of = {speaker: name for name, group in zip(SPLIT_NAMES, groups) for speaker in group}
    return {name: tuple(c for c in clips if split_of[c.speaker] == name) for name in SPLIT_NAMES}
