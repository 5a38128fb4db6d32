"""Speaker utilities: grouping in file order, disjoint splits, the few-shot support/query protocol."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from exvo_jax.data.errors import DataError
from exvo_jax.data.speakers import group_by_speaker, halve_by_speaker, speaker_disjoint_split, support_query


def clips(spec: str):
    """'AABAB' -> clips of speakers A, A, B, A, B with ids 0..4."""
    return [SimpleNamespace(file_id=str(i), speaker=s) for i, s in enumerate(spec)]


def test_group_by_speaker_keeps_file_order():
    groups = group_by_speaker(clips("ABAB"))
    assert list(groups) == ["A", "B"] and [c.file_id for c in groups["A"]] == ["0", "2"]


def test_support_query_first_clips_in_file_order():
    episodes = support_query(clips("AABABAB"), shots=2)
    assert [e.speaker for e in episodes] == ["A", "B"]
    assert [c.file_id for c in episodes[0].support] == ["0", "1"]
    assert [c.file_id for c in episodes[0].query] == ["3", "5"]
    assert [c.file_id for c in episodes[1].query] == ["6"]
    assert [len(e.support) for e in support_query(clips("AAABBB"), shots=3)] == [3, 3]


def test_support_labelled_takes_the_labelled_clips_wherever_they_sit():
    def labelled(ids):
        return lambda c: c.file_id in ids

    episodes = support_query(clips("AABABAB"), shots=2, support="labelled", labelled=labelled({"1", "3", "4", "6"}))
    assert [([c.file_id for c in e.support], [c.file_id for c in e.query]) for e in episodes] == [
        (["1", "3"], ["0", "5"]), (["4", "6"], ["2"])]
    with pytest.raises(DataError, match="speaker 'B' has 1 labelled clip\\(s\\) \\(4\\)"):
        support_query(clips("AABABAB"), shots=2, support="labelled", labelled=labelled({"0", "1", "4"}))
    with pytest.raises(DataError, match="speaker 'A' has 3 labelled clip\\(s\\) \\(0, 1, 3\\)"):
        support_query(clips("AABABAB"), shots=2, support="labelled", labelled=labelled({"0", "1", "3", "2", "4"}))
    with pytest.raises(ValueError, match="support must be one of"):
        support_query(clips("AABB"), support="last")


def test_halve_by_speaker_is_deterministic_disjoint_and_keeps_file_order():
    items = clips("ABCDEFGHAB" * 2)
    first, second = halve_by_speaker(items, seed=0)
    assert (first, second) == halve_by_speaker(items, seed=0)
    assert {c.speaker for c in first}.isdisjoint({c.speaker for c in second})
    assert len({c.speaker for c in first}) == len({c.speaker for c in second}) == 4
    assert sorted(first + second, key=lambda c: int(c.file_id)) == items
    assert [int(c.file_id) for c in first] == sorted(int(c.file_id) for c in first)


def test_speaker_with_too_few_clips_is_named():
    with pytest.raises(DataError, match="speaker 'B' has 1 clip\\(s\\) \\(2\\); the few-shot protocol needs 2"):
        support_query(clips("AAB"), shots=2)


def test_speaker_disjoint_split_is_deterministic_and_disjoint():
    speakers = [f"s{i}" for i in range(20)] * 3
    a = speaker_disjoint_split(speakers, (0.7, 0.15, 0.15), seed=1)
    assert a == speaker_disjoint_split(speakers, (0.7, 0.15, 0.15), seed=1)
    assert a != speaker_disjoint_split(speakers, (0.7, 0.15, 0.15), seed=2)
    assert [len(p) for p in a] == [14, 3, 3]
    assert sorted(sum(a, [])) == sorted(set(speakers))
    with pytest.raises(ValueError, match="sum to 1"):
        speaker_disjoint_split(speakers, (0.5, 0.2))
