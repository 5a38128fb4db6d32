"""Input pipeline: bucketing, padding and masks, seeded and per-epoch order, ordered reads, per-host sharding."""

from __future__ import annotations

import grain.python as grain
import numpy as np
import pytest

from exvo_jax.data.audio import load_audio, write_wav
from exvo_jax.data.padding import bucket_length, pad_batch
from exvo_jax.data.pipeline import (
    batches_per_epoch,
    epoch_loader,
    example_from_record,
    from_pcm16,
    make_loader,
    per_host_batch_size,
    to_pcm16,
)

BUCKETS = (8, 16, 32)


def _records(n: int, seed: int = 0) -> list[dict]:
    """Records shaped like the TFDS builders' output: int16 audio of varying length plus labels."""
    rng = np.random.default_rng(seed)
    return [
        {
            "audio": rng.integers(-2000, 2000, size=int(rng.integers(1, 40)), dtype=np.int16),
            "emotions": np.full(3, i / 10, np.float32),
            "file_id": f"clip{i}".encode(),
        }
        for i in range(n)
    ]


def _framed_records(n: int, seed: int = 0) -> list[dict]:
    """Records of the few-shot trainer's kind: float32 frames `[T, 3]` and targets `[2]`."""
    rng = np.random.default_rng(seed)
    return [{"frames": rng.normal(size=(int(rng.integers(1, 12)), 3)).astype(np.float32),
             "targets": np.full(2, i, np.float32)} for i in range(n)]


def _valid_indices(batches) -> list[int]:
    return [int(i) for b in batches for i in b["index"][b["valid"]]]


def test_bucket_length_picks_the_smallest_bucket_that_fits_and_caps_at_the_largest():
    assert [bucket_length(n, BUCKETS) for n in (0, 1, 8, 9, 16, 17, 32, 33, 1000)] == [8, 8, 8, 16, 16, 32, 32, 32, 32]
    with pytest.raises(ValueError, match="strictly increasing"):
        bucket_length(3, (16, 8))
    with pytest.raises(ValueError, match="strictly increasing"):
        bucket_length(3, ())


def test_pad_batch_pads_crops_and_masks():
    waves = [np.arange(1, 4, dtype=np.float32), np.arange(1, 7, dtype=np.float32), np.zeros(0, np.float32)]
    array, mask = pad_batch(waves, 5)
    assert array.shape == mask.shape == (3, 5) and array.dtype == np.float32 and mask.dtype == bool
    np.testing.assert_array_equal(array[0], [1, 2, 3, 0, 0])
    np.testing.assert_array_equal(array[1], [1, 2, 3, 4, 5])  # cropped
    np.testing.assert_array_equal(mask.sum(axis=1), [3, 5, 0])
    np.testing.assert_array_equal(mask[0], [True, True, True, False, False])
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 2\), expected \[T\]"):
        pad_batch([np.zeros(2), np.zeros((2, 2))], 4)


def test_pad_batch_pads_sequences_with_trailing_dims_into_extra_rows():
    sequences = [np.ones((2, 3)), 2 * np.ones((4, 3)), np.ones((7, 3))]
    array, mask = pad_batch(sequences, 5, rows=4)
    assert array.shape == (4, 5, 3) and mask.shape == (4, 5)
    np.testing.assert_array_equal(mask.sum(axis=1), [2, 4, 5, 0])  # the third cropped, the fourth empty
    np.testing.assert_array_equal(array[1, :4], sequences[1])
    assert not array[0, 2:].any() and not array[3].any()
    with pytest.raises(ValueError, match="do not fit in 2 rows"):
        pad_batch(sequences, 5, rows=2)
    with pytest.raises(ValueError, match=r"expected \[T, 3\]"):
        pad_batch([np.ones((2, 3)), np.ones((2, 4))], 5)
    with pytest.raises(ValueError, match="at least one"):
        pad_batch([], 5, rows=2)


def test_pcm16_round_trip_is_exact():
    pcm = np.arange(-32768, 32768, dtype=np.int16)
    np.testing.assert_array_equal(to_pcm16(from_pcm16(pcm)), pcm)
    assert from_pcm16(pcm).min() == -1.0 and from_pcm16(pcm).max() < 1.0
    assert to_pcm16(np.array([2.0, -2.0])).tolist() == [32767, -32768]


def test_same_seed_same_order_other_seed_other_order():
    source = _records(24)

    def order(seed):
        return _valid_indices(make_loader(source, batch_size=4, buckets=BUCKETS, seed=seed, shuffle=True))

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == list(range(24))
    assert order(1) != list(range(24))


@pytest.mark.parametrize("num_records", [11, 12])
def test_every_example_exactly_once_per_epoch_across_two_shards(num_records):
    source = _records(num_records)
    seen, batch_counts = [], []
    for shard in range(2):
        options = grain.ShardOptions(shard_index=shard, shard_count=2, drop_remainder=False)
        batches = list(make_loader(source, batch_size=4, buckets=BUCKETS, seed=3, shard_options=options))
        batch_counts.append(len(batches))
        seen += _valid_indices(batches)
    assert sorted(seen) == list(range(num_records))
    # Equal step counts on every host, so a multi-host evaluation loop never waits on a missing batch.
    assert batch_counts == [batches_per_epoch(num_records, 4, 2)] * 2


def test_batches_have_fixed_size_bucketed_length_and_correct_masks():
    source = _records(30, seed=5)
    batches = list(make_loader(source, batch_size=4, buckets=BUCKETS, seed=0))
    lengths = set()
    for batch in batches:
        length = batch["audio"].shape[1]
        lengths.add(length)
        assert length in BUCKETS
        assert batch["audio"].shape == batch["mask"].shape == (4, length)
        assert batch["emotions"].shape == (4, 3) and batch["valid"].shape == (4,)
        for row in np.flatnonzero(batch["valid"]):
            record = source[int(batch["index"][row])]
            n = min(len(record["audio"]), length)
            assert batch["mask"][row].sum() == n and batch["mask"][row, :n].all()
            np.testing.assert_array_equal(batch["audio"][row, :n], record["audio"][:n] / 32768.0)
            assert not batch["audio"][row, n:].any()
            assert batch["file_id"][row] == record["file_id"]
        assert length == bucket_length(max(int(m.sum()) for m in batch["mask"]), BUCKETS)
    assert len(lengths) > 1  # the random lengths exercise several buckets


def test_last_partial_batch_is_padded_with_masked_out_examples():
    source = _records(10)
    batches = list(make_loader(source, batch_size=4, buckets=BUCKETS, shuffle=False))
    assert len(batches) == 3 == batches_per_epoch(10, 4)
    assert [b["valid"].tolist() for b in batches] == [[True] * 4, [True] * 4, [True, True, False, False]]
    tail = batches[-1]
    assert tail["audio"].shape[0] == 4
    assert not tail["mask"][2:].any() and not tail["audio"][2:].any()
    assert not tail["emotions"][2:].any() and tail["file_id"][2:].tolist() == [b"", b""]
    assert _valid_indices(batches) == list(range(10))


def test_sequence_field_with_trailing_dims():
    source = _framed_records(7)
    batches = list(make_loader(source, batch_size=4, buckets=(4, 8, 16), field="frames", shuffle=False))
    assert [b["frames"].shape[0] for b in batches] == [4, 4]
    for batch in batches:
        length = batch["frames"].shape[1]
        assert batch["frames"].shape == (4, length, 3) and batch["mask"].shape == (4, length)
        assert batch["targets"].shape == (4, 2) and "audio" not in batch
        for row in np.flatnonzero(batch["valid"]):
            frames = source[int(batch["index"][row])]["frames"]
            assert batch["mask"][row].sum() == len(frames)
            np.testing.assert_array_equal(batch["frames"][row, : len(frames)], frames)
    assert batches[1]["index"][3] == -1 and not batches[1]["frames"][3].any()
    with pytest.raises(ValueError, match="no 'frames' field"):
        make_loader(_records(2), batch_size=2, buckets=BUCKETS, field="frames")


def test_epoch_loader_order_depends_on_seed_and_epoch_alone():
    source = _framed_records(20)

    def epoch(seed, e):
        return list(epoch_loader(source, seed=seed, epoch=e, batch_size=4, buckets=(4, 8, 16), field="frames"))

    first, again = epoch(0, 3), epoch(0, 3)
    for a, b in zip(first, again, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    orders = [_valid_indices(epoch(seed, e)) for seed, e in ((0, 3), (0, 4), (1, 3))]
    assert all(sorted(order) == list(range(20)) for order in orders)
    assert len({tuple(order) for order in orders}) == 3


def test_ordered_reads_shortest_first_and_indices_restore_input_order():
    source = _framed_records(11, seed=2)
    lengths = [len(r["frames"]) for r in source]
    batches = list(make_loader(source, batch_size=4, buckets=(4, 8, 16), field="frames", shuffle=False,
                               lengths=lengths))
    read = _valid_indices(batches)
    assert [lengths[i] for i in read] == sorted(lengths)
    restored = [None] * len(source)
    for batch in batches:
        for row in np.flatnonzero(batch["valid"]):
            restored[batch["index"][row]] = batch["targets"][row]
    np.testing.assert_array_equal(np.stack(restored)[:, 0], np.arange(11))
    with pytest.raises(ValueError, match="shuffle=False"):
        make_loader(source, batch_size=4, buckets=(16,), field="frames", lengths=lengths)


def test_global_batch_is_split_over_hosts_and_covers_every_record_once():
    source = _framed_records(13)
    seen = []
    for shard in range(2):
        options = grain.ShardOptions(shard_index=shard, shard_count=2, drop_remainder=False)
        batches = list(epoch_loader(source, seed=0, epoch=1, global_batch_size=4, buckets=(16,), field="frames",
                                    shard_options=options))
        assert {b["frames"].shape for b in batches} == {(2, 16, 3)}
        assert len(batches) == batches_per_epoch(13, 2, 2)
        seen += _valid_indices(batches)
    assert sorted(seen) == list(range(13))
    assert per_host_batch_size(8, 4) == 2
    with pytest.raises(ValueError, match="not a positive multiple of the 2 shards"):
        make_loader(source, global_batch_size=5, buckets=(16,), field="frames",
                    shard_options=grain.ShardOptions(shard_index=0, shard_count=2))
    with pytest.raises(ValueError, match="exactly one"):
        make_loader(source, batch_size=2, global_batch_size=4, buckets=(16,), field="frames")


def test_loader_over_lazily_loaded_wav_files(tmp_path):
    paths = []
    for i, seconds in enumerate((0.01, 0.02, 0.005)):
        t = np.arange(int(16000 * seconds)) / 16000
        paths.append(tmp_path / f"{i}.wav")
        write_wav(paths[-1], 0.5 * np.sin(2 * np.pi * 440 * t))

    def decode(path):
        return {"audio": load_audio(path), "name": path.name}

    batches = list(make_loader(paths, batch_size=2, buckets=(160, 320), shuffle=False, decode=decode))
    assert [b["audio"].shape for b in batches] == [(2, 320), (2, 160)]
    assert batches[0]["mask"].sum(axis=1).tolist() == [160, 320]
    assert batches[1]["valid"].tolist() == [True, False]
    np.testing.assert_allclose(batches[1]["audio"][0, :80], load_audio(paths[2]))


def test_bad_records_and_arguments_raise():
    with pytest.raises(ValueError, match="no 'audio' field"):
        example_from_record({"wave": np.zeros(3)})
    with pytest.raises(ValueError, match="clash"):
        make_loader([{"audio": np.zeros(3, np.int16), "mask": 1}], batch_size=2, buckets=BUCKETS)
    with pytest.raises(ValueError, match="clash"):
        make_loader([{"audio": np.zeros(3, np.int16), "index": 1}], batch_size=2, buckets=BUCKETS)
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(_records(2), batch_size=0, buckets=BUCKETS)
    with pytest.raises(ValueError, match="empty"):
        make_loader([], batch_size=2, buckets=BUCKETS)
