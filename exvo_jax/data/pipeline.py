"""Input pipeline: grain over random-access sources into fixed-shape, padded and masked batches.

A source is anything with `__len__` and `__getitem__`: a TFDS data source (`builder.as_data_source()`,
`tfds.data_source(...)`), or a plain list of records. Each record is turned into an example (a dict
holding a 1-D "audio" wave plus label fields) by `decode`; by default `example_from_record`, which
converts int16 PCM (as stored by the TFDS builders) to float32.

Batches have a fixed batch size and a length taken from a fixed set of buckets, so a jitted step
compiles once per bucket rather than once per batch:

    audio [B, L] float32   zero-padded (or cropped to the largest bucket)
    mask  [B, L] bool      True on real samples
    valid [B]    bool      False on fill examples (tail of the last batch, shard padding)
    <field> [B, ...]       every other field of the examples (each of a fixed shape), zeros where not valid

Nothing is dropped: the tail of an epoch is filled with masked-out examples. Records are sharded
per host (`jax.process_index()` of `jax.process_count()` by default); each shard sees the same
number of examples (the source is padded with masked-out examples to a multiple of the shard count),
so every host runs the same number of steps per epoch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grain.python as grain
import numpy as np

PCM16_SCALE = 32768.0
RESERVED_KEYS = ("mask", "valid")

Example = dict[str, np.ndarray]


class _Padding:
    """Marker for a masked-out example that fills a shard or a partial batch."""

    def __repr__(self) -> str:
        return "PADDING"


PADDING = _Padding()


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float32 wave in [-1, 1] -> int16 PCM; exact inverse of `from_pcm16` on 16-bit sources."""
    return np.clip(np.round(np.asarray(wave, np.float64) * PCM16_SCALE), -32768, 32767).astype(np.int16)


def from_pcm16(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM -> float32 wave in [-1, 1), the scaling soundfile uses for 16-bit files."""
    return (np.asarray(pcm, np.float32) / PCM16_SCALE).astype(np.float32)


def _check_buckets(buckets: Sequence[int]) -> None:
    if not buckets or any(b <= 0 for b in buckets) or list(buckets) != sorted(set(buckets)):
        raise ValueError(f"buckets must be strictly increasing positive lengths, got {list(buckets)}")


def bucket_length(n: int, buckets: Sequence[int]) -> int:
    """The smallest bucket holding `n` samples; the largest bucket where none does (the wave is cropped)."""
    _check_buckets(buckets)
    for bucket in buckets:
        if n <= bucket:
            return int(bucket)
    return int(buckets[-1])


def pad_batch(waves: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pads (or crops) 1-D waves to `length`: (array [B, L] float32, mask [B, L] bool)."""
    array = np.zeros((len(waves), length), np.float32)  # [B, L]
    mask = np.zeros((len(waves), length), bool)  # [B, L]
    for i, wave in enumerate(waves):
        if np.ndim(wave) != 1:
            raise ValueError(f"wave {i} has shape {np.shape(wave)}, expected 1-D")
        n = min(len(wave), length)
        array[i, :n] = wave[:n]
        mask[i, :n] = True
    return array, mask


def example_from_record(record: Mapping[str, Any]) -> Example:
    """A TFDS-style record as an example: int16 "audio" to float32, other fields as numpy arrays."""
    if "audio" not in record:
        raise ValueError(f"record has no 'audio' field (fields: {', '.join(sorted(record))})")
    example = {key: np.asarray(value) for key, value in record.items()}
    audio = example["audio"]
    example["audio"] = from_pcm16(audio) if audio.dtype == np.int16 else audio.astype(np.float32)
    return example


def batches_per_epoch(num_records: int, batch_size: int, shard_count: int = 1) -> int:
    """Batches each shard yields for one epoch (the same on every shard)."""
    return math.ceil(math.ceil(num_records / shard_count) / batch_size)


class _ShardPaddedSource:
    """`source` extended with PADDING records up to a multiple of `shard_count`.

    Besides equal step counts per host, this keeps every record: grain 0.2.18's DataLoader gives each
    shard `len(sampler) // shard_count` records, so with uneven shards the longer ones lose their last.
    """

    def __init__(self, source: Sequence[Any], shard_count: int):
        self._source = source
        self._length = math.ceil(len(source) / shard_count) * shard_count

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> Any:
        return self._source[index] if index < len(self._source) else PADDING


@dataclasses.dataclass(frozen=True)
class _Decode(grain.MapTransform):
    decode: Callable[[Any], Example]

    def map(self, record: Any) -> Example | _Padding:
        if record is PADDING:
            return PADDING
        example = self.decode(record)
        clash = [k for k in RESERVED_KEYS if k in example]
        if clash:
            raise ValueError(f"example fields {clash} clash with the batch's own fields {list(RESERVED_KEYS)}")
        return example


@dataclasses.dataclass(frozen=True)
class _Collate:
    """Stacks up to `batch_size` examples into one padded batch of exactly `batch_size`."""

    batch_size: int
    buckets: tuple[int, ...]
    template: Example  # zeros shaped like one example (audio of length 0): the fill for invalid rows

    def __call__(self, examples: Sequence[Example | _Padding]) -> Example:
        examples = list(examples) + [PADDING] * (self.batch_size - len(examples))
        valid = np.array([e is not PADDING for e in examples])  # [B]
        filled = [e if e is not PADDING else self.template for e in examples]
        length = bucket_length(max(len(e["audio"]) for e in filled), self.buckets)
        audio, mask = pad_batch([e["audio"] for e in filled], length)
        batch = {key: np.stack([e[key] for e in filled]) for key in self.template if key != "audio"}
        return {"audio": audio, "mask": mask, "valid": valid, **batch}


def make_loader(
    source: Sequence[Any],
    *,
    batch_size: int,
    buckets: Sequence[int],
    seed: int = 0,
    shuffle: bool = True,
    num_epochs: int | None = 1,
    shard_options: grain.ShardOptions | None = None,
    decode: Callable[[Any], Example] = example_from_record,
    worker_count: int = 0,
) -> grain.DataLoader:
    """A grain DataLoader yielding fixed-shape batches (see the module docstring) from `source`.

    `seed` fixes the shuffle order (per epoch); `num_epochs=None` repeats forever, and then batches
    run across epoch boundaries. `shard_options` defaults to this host's share
    (`grain.ShardByJaxProcess`). `worker_count > 0` needs a `__main__` guard in the calling script.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if len(source) == 0:
        raise ValueError("source is empty")
    buckets = tuple(int(b) for b in buckets)
    _check_buckets(buckets)
    shard_options = shard_options if shard_options is not None else grain.ShardByJaxProcess(drop_remainder=False)
    padded = _ShardPaddedSource(source, shard_options.shard_count)
    first = _Decode(decode).map(source[0])
    template = {key: np.zeros_like(value) for key, value in first.items()}
    template["audio"] = np.zeros((0,), np.float32)
    sampler = grain.IndexSampler(
        num_records=len(padded),
        shard_options=shard_options,
        shuffle=shuffle,
        num_epochs=num_epochs,
        seed=seed,
    )
    return grain.DataLoader(
        data_source=padded,
        sampler=sampler,
        operations=[
            _Decode(decode),
            grain.Batch(batch_size, drop_remainder=False, batch_fn=_Collate(batch_size, buckets, template)),
        ],
        worker_count=worker_count,
    )
