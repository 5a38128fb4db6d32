"""hume_vb builder: builds from dummy_data into array_record without TensorFlow and reads back by random access.

tfds.testing.DatasetBuilderTestCase reads through `as_dataset` (TensorFlow), so these are plain pytest
tests around `download_and_prepare` and `as_data_source`.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_datasets as tfds

from datasets.hume_vb import dummy_data_generation
from datasets.hume_vb.hume_vb_dataset_builder import Builder
from exvo_jax.data.audio import load_audio
from exvo_jax.data.errors import DataError
from exvo_jax.data.pipeline import make_loader
from exvo_jax.data.release import read_feature_csv, read_release
from exvo_jax.synth import write_corpus

DUMMY = dummy_data_generation.DUMMY_DIR


def _build(tmp_path, config: str, manual_dir=DUMMY) -> Builder:
    builder = Builder(config=config, data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


@pytest.fixture(scope="module")
def audio_builder(tmp_path_factory) -> Builder:
    return _build(tmp_path_factory.mktemp("hume_vb"), "audio")


def test_dummy_data_is_what_the_generator_writes(tmp_path):
    dummy_data_generation.write_dummy_data(tmp_path)
    committed = sorted(p.relative_to(DUMMY) for p in DUMMY.rglob("*") if p.is_file())
    assert committed == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all((DUMMY / p).read_bytes() == (tmp_path / p).read_bytes() for p in committed)
    assert sum((DUMMY / p).stat().st_size for p in committed) < 200_000


def test_audio_config_writes_array_record_splits(audio_builder):
    info = audio_builder.info
    assert info.file_format == tfds.core.FileFormat.ARRAY_RECORD
    assert {name: split.num_examples for name, split in info.splits.items()} == {"train": 3, "validation": 2, "test": 2}
    assert list(audio_builder.data_path.glob("*.array_record-*")), "no array_record shards written"


def test_audio_and_labels_read_back_exactly(audio_builder):
    corpus = read_release(DUMMY)
    sources = audio_builder.as_data_source()
    train = sources["train"]
    assert [train[i]["file_id"].decode() for i in range(len(train))] == ["10001", "10002", "10003"]  # file order
    clip = corpus.by_id()["10003"]
    record = train[2]
    assert record["audio"].dtype == np.int16
    np.testing.assert_array_equal(record["audio"] / 32768.0, load_audio(clip.wav_path))
    assert record["speaker"].decode() == "Speaker_2" and bool(record["has_labels"])
    assert record["age"] == clip.age and record["country"] == clip.country
    np.testing.assert_array_equal(record["emotions"], clip.emotions)


def test_blinded_test_rows_carry_sentinels(audio_builder):
    test = audio_builder.as_data_source()["test"]
    for i in range(len(test)):
        record = test[i]
        assert not record["has_labels"]
        assert record["age"] == -1.0 and record["country"] == -1
        np.testing.assert_array_equal(record["emotions"], np.full(10, -1.0, np.float32))
        assert record["audio"].size > 0


def test_data_source_feeds_the_input_pipeline(audio_builder):
    data_dir = audio_builder.data_path.parents[2]  # <data_dir>/hume_vb/audio/1.0.0
    source = tfds.data_source("hume_vb/audio", data_dir=str(data_dir), download=False)
    batches = list(make_loader(source["train"], batch_size=2, buckets=(1600, 3200), shuffle=False))
    assert [b["valid"].tolist() for b in batches] == [[True, True], [True, False]]
    assert all(b["audio"].shape[1] in (1600, 3200) for b in batches)
    assert [f.decode() for b in batches for f in b["file_id"][b["valid"]]] == ["10001", "10002", "10003"]


def test_feature_config_reads_the_feature_csvs(tmp_path):
    builder = _build(tmp_path, "egemaps")
    record = builder.as_data_source()["validation"][1]
    assert record["file_id"] == b"20002" and "audio" not in record
    np.testing.assert_array_equal(record["features"], read_feature_csv(DUMMY / "feats" / "eGeMAPS" / "20002.csv"))


def test_missing_feature_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"feats/ComParE/10001\.csv: feature file is missing"):
        _build(tmp_path, "compare")


def test_synthetic_corpus_test_split_carries_its_test_labels(tmp_path):
    synthetic_corpus = tmp_path / "corpus"
    write_corpus(synthetic_corpus, speakers=3, clips_per_speaker=3, seed=0)
    builder = _build(tmp_path, "audio", manual_dir=synthetic_corpus)
    corpus = read_release(synthetic_corpus, test_labels=True)
    sources = builder.as_data_source()
    for tfds_split, split in (("train", "Train"), ("validation", "Val"), ("test", "Test")):
        clips = corpus.split(split)
        assert len(sources[tfds_split]) == len(clips)
    test = sources["test"]
    assert len(test) > 0
    labelled = corpus.by_id()
    for i in range(len(test)):
        record = test[i]
        clip = labelled[record["file_id"].decode()]
        assert record["has_labels"] and record["country"] == clip.country and record["age"] == clip.age
        np.testing.assert_array_equal(record["emotions"], clip.emotions)
