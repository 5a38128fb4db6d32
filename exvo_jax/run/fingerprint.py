"""What a run read: every input file's resolved path, size and modification time, and a digest of them.

A run resumes only on the data it started with. Hashing file contents would cost a pass over the whole
corpus on every start; size and mtime catch the usual accidents (a re-extracted release, an edited
label table, clips added or removed) for the price of one `stat` per file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from exvo_jax.data.errors import DataError

SHOWN = 3  # file names shown per kind of difference


@dataclasses.dataclass(frozen=True)
class Clip:
    """One input file as seen at the start of a run."""

    path: str  # resolved, absolute
    size: int
    mtime_ns: int


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """The sorted clip list of a run's inputs."""

    clips: tuple[Clip, ...]

    @property
    def digest(self) -> str:
        """sha256 of the clip list: equal digests, same data (as far as path, size and mtime tell)."""
        text = json.dumps([dataclasses.astuple(c) for c in self.clips], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_json(self) -> str:
        """data.json: digest, count, then one clip per line."""
        lines = ",\n".join("    " + json.dumps(dataclasses.asdict(c)) for c in self.clips)
        body = f"[\n{lines}\n  ]" if self.clips else "[]"
        return f'{{\n  "digest": "{self.digest}",\n  "count": {len(self.clips)},\n  "clips": {body}\n}}\n'

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        return cls(tuple(Clip(c["path"], int(c["size"]), int(c["mtime_ns"])) for c in json.loads(text)["clips"]))


def data_fingerprint(paths: Iterable[str | Path]) -> Fingerprint:
    """Fingerprint of the given input files (duplicates counted once); a missing file is a `DataError`."""
    clips = {}
    for path in paths:
        resolved = str(Path(path).expanduser().resolve())
        try:
            stat = os.stat(resolved)
        except FileNotFoundError:
            raise DataError(f"{path}: input file not found") from None
        clips[resolved] = Clip(resolved, stat.st_size, stat.st_mtime_ns)
    return Fingerprint(tuple(clips[p] for p in sorted(clips)))


def describe_difference(old: Fingerprint, new: Fingerprint) -> str | None:
    """None when the data are the same; else which files were added, removed or changed (a few of each)."""
    if old.clips == new.clips:
        return None
    before = {c.path: c for c in old.clips}
    after = {c.path: c for c in new.clips}
    paths = list(before) + list(after)
    root = os.path.commonpath([os.path.dirname(p) for p in paths])
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    changed = [p for p in after if p in before and after[p] != before[p]]

    def name(path: str) -> str:
        return os.path.relpath(path, root)

    def change(path: str) -> str:
        was, now = before[path], after[path]
        if was.size != now.size:
            return f"{name(path)}: size {was.size} -> {now.size}"
        return f"{name(path)}: modified"

    parts = [_listed(f"{len(added)} added", [name(p) for p in added]),
             _listed(f"{len(removed)} removed", [name(p) for p in removed]),
             _listed(f"{len(changed)} changed", [change(p) for p in changed])]
    return f"under {root}: " + "; ".join(p for p in parts if p)


def _listed(head: str, items: list[str]) -> str:
    if not items:
        return ""
    more = f", and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{head} ({', '.join(items[:SHOWN])}{more})"
