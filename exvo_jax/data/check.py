"""Corpus check: every problem of a release folder (labels, ids, audio, speakers), found in one pass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from exvo_jax.data.audio import SILENCE_PEAK
from exvo_jax.data.errors import DataError, Problem, Problems
from exvo_jax.data.release import TEST_LABELS, Corpus, read_release
from exvo_jax.data.schema import SAMPLE_RATE
from exvo_jax.data.speakers import group_by_speaker


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


def check_audio(path: Path, problems: Problems, strict: bool = False) -> None:
    """Adds a problem for a missing, empty, unreadable, silent or non-finite clip.

    A sample rate other than 16 kHz and multi-channel audio are warnings (the loader resamples and
    averages to mono), or errors with `strict`.
    """
    where = str(path)
    if not path.exists():
        problems.add(where, "audio file is missing")
        return
    if path.stat().st_size == 0:
        problems.add(where, "audio file is empty (0 bytes)")
        return
    try:
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
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
    elif not np.all(np.isfinite(wave)):
        problems.add(where, "audio contains NaN or infinite samples")
    elif float(np.max(np.abs(wave))) < SILENCE_PEAK:
        problems.add(where, f"audio is silent (peak below {SILENCE_PEAK:g})")


def check_release(
    root: str | Path,
    *,
    audio: bool = True,
    shots: int = 2,
    strict: bool = False,
    progress: bool = True,
) -> CheckReport:
    """Checks a release folder and returns every problem instead of stopping at the first.

    `shots` is the few-shot support size: Val/Test speakers with fewer clips are errors (0 turns the
    check off). `strict` makes resampling and down-mixing errors instead of warnings.
    """
    root = Path(root)
    problems = Problems(collect=True)
    try:
        corpus = read_release(root, problems=problems, test_labels=(root / TEST_LABELS).exists())
    except DataError as err:
        problems.add(str(root), str(err).removeprefix(f"{root}: "))
        return CheckReport(None, tuple(problems.items))

    splits_of: dict[str, set[str]] = {}
    for clip in corpus.clips:
        splits_of.setdefault(clip.speaker, set()).add(clip.split)
    for speaker, splits in splits_of.items():
        if len(splits) > 1:
            problems.add(f"speaker {speaker!r}", f"appears in several splits ({', '.join(sorted(splits))})", "warning")
    if shots:
        for split in ("Val", "Test"):
            for speaker, clips in group_by_speaker(corpus.split(split)).items():
                if len(clips) < shots:
                    ids = ", ".join(c.file_id for c in clips)
                    problems.add(
                        f"speaker {speaker!r} ({split})",
                        f"has {len(clips)} clip(s) ({ids}); the few-shot protocol needs {shots}",
                    )
    if audio:
        for clip in tqdm(corpus.clips, desc="checking audio", unit="clip", disable=not progress):
            check_audio(clip.wav_path, problems, strict=strict)
    return CheckReport(corpus, tuple(problems.items))
