"""Feature cache keyed by feature set, extractor version and the source file's content.

Two levels, both under one cache folder:
- `feats/<Set>/<id>.csv` in the release layout (header `name,<feature names>`, then one row whose first
  field is the cache key instead of a name); a row whose key differs from the current one is stale and is
  recomputed, never served;
- `packed/<Set>/<name>.npz` holding ids, keys and the stacked [N, D] array of a whole split, reused only
  when every id and key matches.
Only finite features are cached: writing NaN or infinite values is a `DataError` naming the clip, and
a non-finite entry left by an older version is recomputed, never served. Ids are relative paths that
stay inside the cache folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from exvo_jax.atomic import atomic_path, write_text
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO


@dataclasses.dataclass(frozen=True)
class AudioItem:
    """One clip to featurise: an id (file name without extension) and the file to read."""

    file_id: str
    path: Path


def content_hash(path: str | Path) -> str:
    """BLAKE2b digest (32 hex characters) of a file's bytes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file is missing") from None
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_key(path: str | Path, feature_set: str, version: str) -> str:
    """`<set>|<version>|<content hash>`: changes whenever the file, the set or the extractor version does."""
    return f"{feature_set}|{version}|{content_hash(path)}"


def _non_finite(values: np.ndarray) -> str | None:
    """`k of n values are NaN or infinite`, or None when all are finite."""
    bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    return f"{bad} of {np.size(values)} values are NaN or infinite" if bad else None


def _safe_name(feature_set: str) -> Path:
    """`openXBOW/125` stays a nested folder, as in the release layout."""
    return Path(*feature_set.split("/"))


@dataclasses.dataclass(frozen=True)
class FeatureCache:
    """Cache folder for one feature set."""

    root: Path
    feature_set: str

    def __post_init__(self):
        if (Path(self.root) / DATA_INFO).exists():  # its feats/ would pass for the release's own
            raise DataError(f"{self.root}: is a release folder; put the feature cache elsewhere (cache_dir)")

    def csv_path(self, file_id: str) -> Path:
        relative = Path(file_id)
        if relative.is_absolute() or ".." in relative.parts or "\0" in file_id:
            raise DataError(f"{file_id!r}: clip id is not a path inside the feature cache")
        return self.root / "feats" / _safe_name(self.feature_set) / f"{file_id}.csv"

    def packed_path(self, name: str) -> Path:
        return self.root / "packed" / _safe_name(self.feature_set) / f"{name}.npz"

    def read_row(self, file_id: str, key: str) -> np.ndarray | None:
        """The cached vector of `file_id` if present and computed under `key`, else None."""
        path = self.csv_path(file_id)
        if not path.exists():
            return None
        lines = path.read_text().splitlines()
        if len(lines) < 2:
            return None
        fields = lines[1].split(",")
        if fields[0] != key:
            return None
        vector = np.array([float(v) for v in fields[1:]], dtype=np.float32)
        return None if _non_finite(vector) else vector

    def write_row(self, item: AudioItem, key: str, names: Sequence[str], vector: np.ndarray) -> None:
        """Caches the features of `item`; non-finite features are a `DataError` naming its file."""
        if (problem := _non_finite(vector)) is not None:
            raise DataError(f"{item.path}: {self.feature_set} features not cached: {problem}")
        header = ",".join(["name", *names])
        row = ",".join([key, *(format(float(v), ".9g") for v in vector)])
        write_text(self.csv_path(item.file_id), f"{header}\n{row}\n")

    def read_packed(self, name: str, ids: Sequence[str], keys: Sequence[str]) -> np.ndarray | None:
        """The packed [N, D] array if it holds exactly `ids` under `keys`, else None."""
        path = self.packed_path(name)
        if not path.exists():
            return None
        with np.load(path) as packed:
            if list(packed["ids"]) != list(ids) or list(packed["keys"]) != list(keys):
                return None
            features = packed["features"].astype(np.float32)
        return None if _non_finite(features) else features

    def write_packed(self, name: str, ids: Sequence[str], keys: Sequence[str], features: np.ndarray) -> None:
        """Caches a split's [N, D] features; a clip with non-finite features is a `DataError` naming it."""
        finite = np.isfinite(features).all(axis=1)  # [N]
        if not finite.all():
            first = int(np.argmin(finite))
            raise DataError(f"{ids[first]}: {self.feature_set} features not cached (packed {name}): "
                            f"{_non_finite(features[first])} ({int((~finite).sum())} clip(s) affected)")
        buffer = io.BytesIO()
        np.savez(buffer, ids=np.array(ids, dtype=str), keys=np.array(keys, dtype=str), features=features)
        with atomic_path(self.packed_path(name)) as tmp:
            tmp.write_bytes(buffer.getvalue())
