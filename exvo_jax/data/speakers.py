"""Speaker utilities: grouping in file order, speaker-disjoint splits, few-shot support/query sets.

`validate_fewshot_protocol` checks, before any training, that every Val and Test speaker has the
support clips the few-shot protocol adapts on; otherwise the problem would surface only after
training, when the first under-supplied speaker is adapted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import numpy as np

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO, Corpus

T = TypeVar("T")
SPEAKERS_NAMED = 10  # under-supplied speakers named in one error before the rest are counted


def group_by_speaker(items: Sequence[T], speaker_of: Callable[[T], Hashable] = lambda c: c.speaker) -> dict:
    """{speaker: [items in file order]}, speakers in order of first appearance."""
    groups: dict = {}
    for item in items:
        groups.setdefault(speaker_of(item), []).append(item)
    return groups


def speaker_disjoint_split(
    speakers: Sequence[Hashable], fractions: Sequence[float], seed: int = 0
) -> list[list[Hashable]]:
    """Partitions unique speakers into len(fractions) disjoint groups, deterministically for a seed."""
    unique = sorted(set(speakers), key=str)
    if abs(sum(fractions) - 1.0) > 1e-6 or any(f < 0 for f in fractions):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    order = np.random.default_rng(seed).permutation(len(unique))
    bounds = np.round(np.cumsum([0.0, *fractions]) * len(unique)).astype(int)
    return [[unique[i] for i in order[bounds[k]:bounds[k + 1]]] for k in range(len(fractions))]


def halve_by_speaker(items: Sequence[T], seed: int = 0,
                     speaker_of: Callable[[T], Hashable] = lambda c: c.speaker) -> tuple[list[T], list[T]]:
    """Items of a seeded half of the speakers and of the other half (`speaker_disjoint_split`), in file order."""
    first = set(speaker_disjoint_split([speaker_of(c) for c in items], (0.5, 0.5), seed=seed)[0])
    return [c for c in items if speaker_of(c) in first], [c for c in items if speaker_of(c) not in first]


@dataclasses.dataclass(frozen=True)
class SpeakerEpisode(Generic[T]):
    """One speaker's few-shot task: labelled support clips and the query clips to predict."""

    speaker: Hashable
    support: tuple[T, ...]
    query: tuple[T, ...]


SUPPORT_RULES = ("first", "labelled")


def support_query(
    items: Sequence[T],
    shots: int = 2,
    speaker_of: Callable[[T], Hashable] = lambda c: c.speaker,
    name_of: Callable[[T], str] = lambda c: c.file_id,
    *,
    support: str = "first",
    labelled: Callable[[T], bool] | None = None,
) -> list[SpeakerEpisode[T]]:
    """Per speaker, `shots` support clips and the rest (in file order) as query.

    `support="first"`: the first `shots` clips in file order are support. This is the protocol on Val,
    where every clip is labelled. `support="labelled"`: the clips for which `labelled(clip)` holds are
    support, wherever they sit in the file; each speaker needs exactly `shots` of them (an error names
    the speaker and its labelled clips otherwise). This is the protocol on Test, whose support labels are
    released for two clips per speaker, in no particular position.

    A speaker with fewer than `shots` clips is an error naming the speaker; one with exactly `shots`
    clips gets an empty query set (still usable for adaptation-only runs).
    """
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    if support not in SUPPORT_RULES:
        raise ValueError(f"support must be one of {', '.join(SUPPORT_RULES)}, got {support!r}")
    if support == "labelled" and labelled is None:
        raise ValueError('support="labelled" needs `labelled`, a predicate telling which clips have labels')
    episodes = []
    for speaker, clips in group_by_speaker(items, speaker_of).items():
        if len(clips) < shots:
            names = ", ".join(name_of(c) for c in clips)
            raise DataError(f"speaker {speaker!r} has {len(clips)} clip(s) ({names}); the few-shot protocol needs {shots}")
        if support == "first":
            episodes.append(SpeakerEpisode(speaker, tuple(clips[:shots]), tuple(clips[shots:])))
            continue
        chosen = [c for c in clips if labelled(c)]
        if len(chosen) != shots:
            names = ", ".join(name_of(c) for c in chosen) or "none"
            raise DataError(f"speaker {speaker!r} has {len(chosen)} labelled clip(s) ({names}); the few-shot "
                            f"protocol takes exactly {shots} labelled support clips per speaker")
        episodes.append(SpeakerEpisode(speaker, tuple(chosen), tuple(c for c in clips if not labelled(c))))
    return episodes


def short_speakers(corpus: Corpus, shots: int = 2,
                   splits: Sequence[str] = ("Val", "Test")) -> list[tuple[str, Hashable, list]]:
    """(split, speaker, clips) of every speaker of `splits` with fewer than `shots` clips, in file order."""
    return [(split, speaker, clips) for split in splits
            for speaker, clips in group_by_speaker(corpus.split(split)).items() if len(clips) < shots]


def validate_fewshot_protocol(corpus: Corpus, shots: int = 2, splits: Sequence[str] = ("Val", "Test")) -> None:
    """`DataError` naming data_info.csv and every speaker of `splits` with fewer than `shots` clips."""
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    short = short_speakers(corpus, shots, splits)
    if not short:
        return
    named = "; ".join(f"speaker {speaker!r} ({split}) has {len(clips)} ({', '.join(c.file_id for c in clips)})"
                      for split, speaker, clips in short[:SPEAKERS_NAMED])
    more = f"; and {len(short) - SPEAKERS_NAMED} more" if len(short) > SPEAKERS_NAMED else ""
    raise DataError(f"{corpus.root / DATA_INFO}: the few-shot protocol needs {shots} clips per speaker, "
                    f"{len(short)} speaker(s) have fewer: {named}{more}")
