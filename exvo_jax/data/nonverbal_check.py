"""`exvo-jax check` for a nonverbal-vocalisation corpus: layout, file names, every clip's audio and the split.

The corpus (`exvo_jax.data.nonverbal`) keeps its labels in the file names, so a bad name stops the
reading with one line naming the file; then every clip's audio is checked (missing, truncated, unreadable,
empty, non-finite, silent) and the speaker-disjoint split must leave every part some speakers and the test
part a speaker with more than `shots` clips to personalise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from exvo_jax.data.check import check_audio
from exvo_jax.data.errors import DataError, Problems
from exvo_jax.data.nonverbal import Vocalisation, read_corpus, split_corpus
from exvo_jax.data.speakers import group_by_speaker


def split_counts(parts: dict[str, Sequence[Vocalisation]]) -> dict[str, dict[str, int]]:
    return {name: {"clips": len(clips), "speakers": len({c.speaker for c in clips})} for name, clips in parts.items()}


def describe_nonverbal(root: str | Path) -> str:
    """`nonverbal-vocalisation corpus at <root>: N clips, S speakers (train n / s, ...)`."""
    clips = read_corpus(root)
    counts = split_counts(split_corpus(clips))
    parts = ", ".join(f"{name} {c['clips']} clips / {c['speakers']} speakers" for name, c in counts.items())
    return (f"nonverbal-vocalisation corpus at {root}: {len(clips)} clips, {len({c.speaker for c in clips})} "
            f"speakers; speaker-disjoint split: {parts}")


def personalised_clips(test: Sequence[Vocalisation], shots: int) -> list[Vocalisation]:
    """The clips of the test speakers with more than `shots` clips (some left to score after the support)."""
    return [c for clips in group_by_speaker(test).values() if len(clips) > shots for c in clips]


def nonverbal_problems(root: str | Path, shots: int, progress: bool = False) -> tuple[Problems, dict]:
    """Every problem found in the corpus at `root`, and its counts (clips, speakers, split)."""
    clips = read_corpus(root)  # a bad folder or file name stops here, naming it
    problems = Problems(collect=True)
    for clip in tqdm(clips, desc="checking audio", unit="clip", disable=not progress):
        check_audio(clip.path, problems)
    parts = split_corpus(clips)
    speakers = len({c.speaker for c in clips})
    for name, part in parts.items():
        if not part:
            problems.add(root, f"the speaker-disjoint split leaves the {name} part empty ({speakers} speakers in all)")
    if parts["test"] and not personalised_clips(parts["test"], shots):
        problems.add(root, f"no test speaker has more than {shots} clips: no speaker to personalise")
    return problems, {"clips": len(clips), "speakers": speakers, "split": split_counts(parts)}


def check_nonverbal(root: str | Path, shots: int, progress: bool = False) -> dict:
    """`nonverbal_problems`, where any error is a `DataError` listing every problem found; else the counts."""
    problems, counts = nonverbal_problems(root, shots, progress)
    if problems.errors:
        lines = "\n".join(f"{p.severity}: {p}" for p in problems.items)
        raise DataError(f"{root}: the corpus check failed:\n{lines}\n{len(problems.errors)} error(s), "
                        f"{len(problems.warnings)} warning(s)")
    return {"errors": 0, "warnings": len(problems.warnings), **counts}
