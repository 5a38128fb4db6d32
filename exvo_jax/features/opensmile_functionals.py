"""openSMILE functionals of one clip: ComParE_2016 (6373-d) and eGeMAPSv02 (88-d).

openSMILE fills every feature of a clip shorter than its 60 ms analysis window with NaN (and only
warns); such a clip is a `DataError` naming it here, before NaN can reach a cache or a model.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import opensmile

from exvo_jax.data.audio import load_audio
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import OPENSMILE_MIN_SECONDS, SAMPLE_RATE

# Release feature-set names -> openSMILE configurations.
FUNCTIONAL_SETS: dict[str, opensmile.FeatureSet] = {
    "ComParE": opensmile.FeatureSet.ComParE_2016,
    "eGeMAPS": opensmile.FeatureSet.eGeMAPSv02,
}
OPENSMILE_VERSION: str = opensmile.__version__


@functools.cache
def smile(feature_set: str, level: str = "functionals") -> opensmile.Smile:
    """A (per-process cached) extractor; `level` is "functionals" or "lld" (low-level descriptors)."""
    if feature_set not in FUNCTIONAL_SETS:
        raise ValueError(f"unknown openSMILE feature set {feature_set!r} (expected one of {', '.join(FUNCTIONAL_SETS)})")
    levels = {"functionals": opensmile.FeatureLevel.Functionals, "lld": opensmile.FeatureLevel.LowLevelDescriptors}
    return opensmile.Smile(feature_set=FUNCTIONAL_SETS[feature_set], feature_level=levels[level])


def feature_names(feature_set: str, level: str = "functionals") -> list[str]:
    return list(smile(feature_set, level).feature_names)


def extract(path: str | Path, feature_set: str, level: str = "functionals") -> np.ndarray:
    """Functionals [D] (or low-level descriptors [T, D] with level="lld") of one audio file."""
    wave = load_audio(path)  # [T] float32, 16 kHz; unreadable or silent files raise a DataError naming them
    if len(wave) < round(OPENSMILE_MIN_SECONDS * SAMPLE_RATE):
        raise DataError(f"{path}: clip is {len(wave) / SAMPLE_RATE:.3g} s, shorter than the "
                        f"{OPENSMILE_MIN_SECONDS:g} s the openSMILE {feature_set} features need")
    frame = smile(feature_set, level).process_signal(wave, SAMPLE_RATE)
    values = frame.to_numpy(dtype=np.float32)
    return values[0] if level == "functionals" else values


def functionals_job(job: tuple[str, str]) -> np.ndarray:
    """`extract(path, feature_set)` for a worker process: job = (path, feature set)."""
    path, feature_set = job
    return extract(path, feature_set)


def descriptors_job(path: str) -> np.ndarray:
    """ComParE_2016 low-level descriptors [T, 65] of one file, for a worker process."""
    return extract(path, "ComParE", level="lld")
