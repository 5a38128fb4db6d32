"""nonverbal_vocalization builder: builds into array_record without TensorFlow, from dummy_data and the real sample.

tfds.testing.DatasetBuilderTestCase reads through `as_dataset` (TensorFlow), so these are plain pytest
tests around `download_and_prepare` and `as_data_source`.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_datasets as tfds

from datasets.nonverbal_vocalization import dummy_data_generation
from datasets.nonverbal_vocalization.nonverbal_vocalization_dataset_builder import Builder
from exvo_jax.data.audio import load_audio
from exvo_jax.data.nonverbal import VOCAL_TYPES, parse_file_name, read_corpus, split_corpus

DUMMY = dummy_data_generation.DUMMY_DIR


def _build(data_dir, manual_dir) -> Builder:
    builder = Builder(data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


def _records(source) -> list[dict]:
    return [source[i] for i in range(len(source))]


def test_dummy_data_is_what_the_generator_writes(tmp_path):
    dummy_data_generation.write_dummy_data(tmp_path)
    committed = sorted(p.relative_to(DUMMY) for p in DUMMY.rglob("*") if p.is_file())
    assert committed == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((DUMMY / p).read_bytes() == (tmp_path / p).read_bytes() for p in committed)
    assert sum((DUMMY / p).stat().st_size for p in committed) < 200_000


def test_builds_from_dummy_data_with_file_name_labels(tmp_path):
    builder = _build(tmp_path, DUMMY)
    assert builder.info.file_format == tfds.core.FileFormat.ARRAY_RECORD
    assert builder.info.features["vocal_type"].names == list(VOCAL_TYPES)
    expected = split_corpus(read_corpus(DUMMY))
    sources = builder.as_data_source()
    assert {name: len(s) for name, s in sources.items()} == {"train": 10, "validation": 2, "test": 2}
    for name, source in sources.items():
        records = _records(source)
        assert [r["file_id"].decode() for r in records] == [c.file_id for c in expected[name]]
        for record, clip in zip(records, expected[name]):
            assert record["speaker"].decode() == clip.speaker
            assert (record["vocal_type"], record["sex"], record["age"], record["trial"]) == (
                clip.vocal_type, clip.sex, clip.age, clip.trial)
            assert (record["location"], record["quality"], record["noise"]) == (clip.location, clip.quality, clip.noise)
            np.testing.assert_array_equal(record["audio"] / 32768.0, load_audio(clip.path))


@pytest.mark.real_data
def test_builds_the_real_sample_speaker_disjoint(tmp_path, nonverbal_dir):
    builder = _build(tmp_path, nonverbal_dir)
    sources = builder.as_data_source()
    records = {name: _records(source) for name, source in sources.items()}
    speakers = {name: {r["speaker"] for r in rs} for name, rs in records.items()}
    assert not (speakers["train"] & speakers["validation"] or speakers["train"] & speakers["test"]
                or speakers["validation"] & speakers["test"])
    all_ids = [r["file_id"].decode() for rs in records.values() for r in rs]
    assert sorted(all_ids) == sorted(p.stem for p in nonverbal_dir.glob("*/*.wav"))  # every clip exactly once
    total_speakers = sum(len(s) for s in speakers.values())
    assert abs(len(speakers["train"]) / total_speakers - 0.7) < 0.01
    assert {r["vocal_type"] for r in records["train"]} == set(range(len(VOCAL_TYPES)))
    record = records["validation"][0]
    clip = parse_file_name(next(nonverbal_dir.glob(f"*/{record['file_id'].decode()}.wav")))
    assert (record["vocal_type"], record["age"], record["sex"]) == (clip.vocal_type, clip.age, clip.sex)
    np.testing.assert_array_equal(record["audio"] / 32768.0, load_audio(clip.path, allow_silence=True))
    # The partition is the library's fixed-seed split, so every build and the track code agree.
    expected = split_corpus(read_corpus(nonverbal_dir))
    assert {name: [r["file_id"].decode() for r in rs] for name, rs in records.items()} == {
        name: [c.file_id for c in clips] for name, clips in expected.items()}
