"""Nonverbal-vocalisation reader: file-name parsing, corpus layout checks, deterministic speaker-disjoint split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from exvo_jax.data.audio import write_wav
from exvo_jax.data.errors import DataError
from exvo_jax.data.nonverbal import (
    NUM_VOCAL_TYPES,
    SPLIT_NAMES,
    VOCAL_TYPES,
    parse_file_name,
    read_corpus,
    split_corpus,
)
from exvo_jax.data.speakers import support_query


def _write_clip(root: Path, folder: str, name: str) -> Path:
    path = root / folder / name
    write_wav(path, 0.1 * np.ones(160, np.float32))
    return path


def test_class_names_follow_the_corpus_order():
    assert NUM_VOCAL_TYPES == 16
    assert VOCAL_TYPES[0] == "teeth-chattering" and VOCAL_TYPES[4] == "coughing" and VOCAL_TYPES[15] == "screaming"


def test_parse_file_name_reads_every_field():
    clip = parse_file_name(Path("/x/laughing/8HN8_12_9_1_22_0_1_1.wav"))
    assert (clip.speaker, clip.vocal_type, clip.type_name, clip.trial) == ("8HN8", 12, "laughing", 9)
    assert (clip.sex, clip.age, clip.location, clip.quality, clip.noise) == (1, 22, 0, 1, 1)
    assert clip.file_id == "8HN8_12_9_1_22_0_1_1" and clip.path == Path("/x/laughing/8HN8_12_9_1_22_0_1_1.wav")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("8HN8_12_9_1_22_0_1.wav", "expected 8 fields"),
        ("8HN8_16_9_1_22_0_1_0.wav", "class '16' out of range"),
        ("8HN8_x_9_1_22_0_1_0.wav", "class 'x' is not a non-negative integer"),
        ("8HN8_3_9_2_22_0_1_0.wav", "sex '2' out of range"),
        ("8HN8_3_9_1_-4_0_1_0.wav", "age '-4' is not a non-negative integer"),
        ("8HN8_3_9_1_0_0_1_0.wav", "age 0"),
        ("8HN8_3_9_1_22_0_1_5.wav", "noise '5' out of range"),
        ("_3_9_1_22_0_1_0.wav", "empty speaker id"),
        ("8HN8_3_9_1_22_0_1_0.mp3", "not a .wav file"),
    ],
)
def test_bad_file_names_raise_naming_the_file(name, message):
    with pytest.raises(DataError, match=message) as err:
        parse_file_name(Path("corpus/coughing") / name)
    assert name in str(err.value)


def test_read_corpus_sorts_and_checks_the_layout(tmp_path):
    _write_clip(tmp_path, "laughing", "BB_12_1_0_30_0_0_0.wav")
    _write_clip(tmp_path, "coughing", "AA_4_2_1_20_0_0_0.wav")
    _write_clip(tmp_path, "coughing", "AA_4_1_1_20_0_0_0.wav")
    (tmp_path / "Nonverbal_Vocalization_metadata.json").write_text("{}")
    clips = read_corpus(tmp_path)
    assert [c.file_id for c in clips] == ["AA_4_1_1_20_0_0_0", "AA_4_2_1_20_0_0_0", "BB_12_1_0_30_0_0_0"]

    _write_clip(tmp_path, "laughing", "CC_4_1_0_30_0_0_0.wav")
    with pytest.raises(DataError, match=r"CC_4_1_0_30_0_0_0\.wav: class 4 \(coughing\) but folder laughing"):
        read_corpus(tmp_path)


def test_read_corpus_rejects_unknown_folders_and_empty_or_missing_corpora(tmp_path):
    with pytest.raises(DataError, match="corpus folder is missing"):
        read_corpus(tmp_path / "absent")
    with pytest.raises(DataError, match="no <class>/\\*.wav clips found"):
        read_corpus(tmp_path)
    _write_clip(tmp_path, "giggling", "AA_4_1_1_20_0_0_0.wav")
    with pytest.raises(DataError, match="giggling: folder is not one of the 16 vocalisation types"):
        read_corpus(tmp_path)


def _fake_clips(num_speakers: int, per_speaker: int = 2):
    return [
        parse_file_name(Path(f"{VOCAL_TYPES[k]}/S{s:03d}_{k}_1_0_30_0_0_0.wav"))
        for s in range(num_speakers)
        for k in range(per_speaker)
    ]


def test_split_is_speaker_disjoint_deterministic_and_complete():
    clips = _fake_clips(40)
    split = split_corpus(clips)
    assert tuple(split) == SPLIT_NAMES
    speakers = {name: {c.speaker for c in part} for name, part in split.items()}
    assert [len(s) for s in speakers.values()] == [28, 6, 6]
    assert not (speakers["train"] & speakers["validation"] or speakers["train"] & speakers["test"]
                or speakers["validation"] & speakers["test"])
    assert sorted(c.file_id for part in split.values() for c in part) == sorted(c.file_id for c in clips)
    assert split == split_corpus(clips)
    # The partition depends on the speakers and the seed only, not on the order of the clips.
    reordered = split_corpus(list(reversed(clips)))
    assert {name: {c.speaker for c in part} for name, part in reordered.items()} == speakers
    assert {c.speaker for c in split_corpus(clips, seed=1)["test"]} != speakers["test"]
    with pytest.raises(ValueError, match="expected 3 fractions"):
        split_corpus(clips, fractions=(0.5, 0.5))


def test_speaker_grouped_folds_test_every_speaker_once():
    clips = _fake_clips(40)
    folds = [split_corpus(clips, fold=k) for k in range(5)]
    tested = [{c.speaker for c in f["test"]} for f in folds]
    assert sorted(s for group in tested for s in group) == sorted({c.speaker for c in clips})
    for k, f in enumerate(folds):
        speakers = {name: {c.speaker for c in part} for name, part in f.items()}
        assert [len(s) for s in speakers.values()] == [24, 8, 8]
        assert speakers["validation"] == tested[(k + 1) % 5] and not speakers["train"] & (tested[k] | tested[(k + 1) % 5])
    with pytest.raises(ValueError, match="fold 5 is not in 0..4"):
        split_corpus(clips, fold=5)


@pytest.mark.real_data
def test_real_sample_reads_completely_and_splits_70_15_15_by_speaker(nonverbal_dir):
    clips = read_corpus(nonverbal_dir)
    assert len(clips) == len(list(nonverbal_dir.glob("*/*.wav")))
    assert {c.type_name for c in clips} == set(VOCAL_TYPES)
    assert all(c.path.parent.name == c.type_name for c in clips)
    split = split_corpus(clips)
    speakers = Counter({name: len({c.speaker for c in part}) for name, part in split.items()})
    total = sum(speakers.values())
    assert total == len({c.speaker for c in clips})
    assert [round(speakers[name] / total, 2) for name in SPLIT_NAMES] == pytest.approx([0.70, 0.15, 0.15], abs=0.01)
    # Speakers with three or more clips form few-shot episodes with the shared speaker utilities.
    multi = [c for c in clips if sum(d.speaker == c.speaker for d in clips) >= 3]
    episodes = support_query(multi, shots=2)
    assert episodes and all(len(e.support) == 2 and len(e.query) >= 1 for e in episodes)
