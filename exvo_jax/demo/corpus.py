"""The demo's first stages: the corpus (synthetic, or a release given with `--data`) and its check."""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError
from exvo_jax.data.nonverbal import METADATA_FILE
from exvo_jax.data.release import DATA_INFO, TEST_LABELS
from exvo_jax.synth import format_summary, write_corpus


def given_release(data: str) -> Path:
    """The release folder given with `--data`, resolved; anything else is a one-line `DataError`."""
    root = Path(data).resolve()
    if (root / METADATA_FILE).exists():
        raise DataError(f"{root}: a nonverbal-vocalisation corpus; the demo runs on HUME-VB releases (train its "
                        f"multitask model with --config experiments/multitask/nonverbal.py)")
    if not (root / DATA_INFO).exists():
        raise DataError(f"{root / DATA_INFO}: not found; --data must be a HUME-VB release folder")
    return root


def corpus_stage(config: ml_collections.ConfigDict, out: Path, data: str | None, progress: bool) -> dict:
    """Writes the synthetic corpus under `out/corpus` (or uses the release at `data`); says where and what."""
    if data:
        root = given_release(data)
        summary = f"HUME-VB release at {root}"
    else:
        root = out / "corpus"
        summary = format_summary(write_corpus(root, **config.corpus.to_dict(), progress=progress))
    return {"path": str(root), "synthetic": not data, "summary": summary,
            "test_labels": (root / TEST_LABELS).exists()}


def check_stage(root: str, progress: bool) -> dict:
    """Checks the corpus (audio included); any error stops the demo with the check's full report."""
    check = check_release(root, progress=progress)
    if not check.ok:
        raise DataError(f"{root}: the corpus check failed:\n{check.format()}")
    return {"errors": len(check.errors), "warnings": len(check.warnings)}
