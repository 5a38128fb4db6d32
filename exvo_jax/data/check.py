"""Corpus check: every problem of a release folder (labels, ids, audio, speakers), found in one pass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from exvo_jax.data.audio import SILENCE_PEAK, read_audio_info
from exvo_jax.data.errors import DataError, Problem, Problems
from exvo_jax.data.release import TEST_LABELS, Corpus, read_release
from exvo_jax.data.schema import OPENSMILE_MIN_SECONDS, SAMPLE_RATE
from exvo_jax.data.speakers import short_speakers


@dataclasses.dataclass(frozen=True)
class CheckReport:
    """What `check_release` found: the corpus (None if unreadable) and every problem."""

    corpus: Corpus | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def format(self) -> str:
        lines = []
        if self.corpus is not None:
            counts = {s: len(self.corpus.split(s)) for s in ("Train", "Val", "Test")}
            speakers = len({c.speaker for c in self.corpus.clips})
            lines.append(
                f"{self.corpus.root}: {len(self.corpus.clips)} clips, {speakers} speakers "
                f"(Train {counts['Train']}, Val {counts['Val']}, Test {counts['Test']})"
            )
        lines += [f"{p.severity}: {p}" for p in self.problems]
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


def _add_error(problems: Problems, err: DataError) -> None:
    """A `DataError` ("<where>: <message>") as a collected problem."""
    where, _, message = str(err).partition(": ")
    problems.add(where, message)


def check_audio(path: Path, problems: Problems, strict: bool = False) -> None:
    """Adds a problem for a missing, empty, truncated, unreadable, silent or non-finite clip.

    A sample rate other than 16 kHz and multi-channel audio are warnings (the loader resamples and
    averages to mono), or errors with `strict`. So is a clip shorter than openSMILE's analysis window:
    the shipped feature CSVs and the few-shot track (which pads) still work, computing ComParE or
    eGeMAPS functionals does not.
    """
    where = str(path)
    try:
        read_audio_info(path)
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except DataError as err:
        _add_error(problems, err)
        return
    except (sf.LibsndfileError, RuntimeError) as err:
        problems.add(where, f"not a readable audio file ({err})")
        return
    severity = "error" if strict else "warning"
    if rate != SAMPLE_RATE:
        problems.add(where, f"wrong sample rate {rate} Hz (expected {SAMPLE_RATE} Hz; will be resampled)", severity)
    if wave.shape[1] != 1:
        problems.add(where, f"{wave.shape[1]} channels (expected mono; will be averaged)", severity)
    if wave.shape[0] == 0:
        problems.add(where, "audio has no samples")
        return
    if not np.all(np.isfinite(wave)):
        problems.add(where, "audio contains NaN or infinite samples")
    elif float(np.max(np.abs(wave))) < SILENCE_PEAK:
        problems.add(where, f"audio is silent (peak below {SILENCE_PEAK:g})")
    seconds = wave.shape[0] / rate
    if seconds < OPENSMILE_MIN_SECONDS:
        problems.add(where, f"clip is {seconds:.3g} s, shorter than the {OPENSMILE_MIN_SECONDS:g} s the openSMILE "
                            "features (ComParE, eGeMAPS) need", severity)


def check_release(
    root: str | Path,
    *,
    audio: bool = True,
    shots: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> CheckReport:
    """Checks a release folder and returns every problem instead of stopping at the first.

    `shots` is the few-shot support size: Val/Test speakers with fewer clips are errors, as
    `validate_fewshot_protocol` makes them for few-shot training (0 turns the check off, for corpora
    used by the multitask track only). `strict` makes resampling, down-mixing and clips too short for
    openSMILE errors instead of warnings.
    """
    root = Path(root)
    problems = Problems(collect=True)
    try:
        corpus = read_release(root, problems=problems, test_labels=(root / TEST_LABELS).exists())
    except DataError as err:
        _add_error(problems, err)
        return CheckReport(None, tuple(problems.items))

    splits_of: dict[str, set[str]] = {}
    for clip in corpus.clips:
        splits_of.setdefault(clip.speaker, set()).add(clip.split)
    for speaker, splits in splits_of.items():
        if len(splits) > 1:
            problems.add(f"speaker {speaker!r}", f"appears in several splits ({', '.join(sorted(splits))})", "warning")
    if shots:
        for split, speaker, clips in short_speakers(corpus, shots):
            ids = ", ".join(c.file_id for c in clips)
            problems.add(f"speaker {speaker!r} ({split})",
                         f"has {len(clips)} clip(s) ({ids}); the few-shot protocol needs {shots}")
    if audio:
        for clip in tqdm(corpus.clips, desc="checking audio", unit="clip", disable=not progress):
            check_audio(clip.wav_path, problems, strict=strict)
    return CheckReport(corpus, tuple(problems.items))
