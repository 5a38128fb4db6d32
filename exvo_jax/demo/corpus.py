"""The demo's first stages: the corpus (synthetic, or a folder given with `--data`) and its check.

A folder given with `--data` is a HUME-VB release (`data_info.csv`) or a nonverbal-vocalisation corpus
(its metadata file beside `<class>/*.wav`); its layout decides which stages run (`exvo_jax.demo`).
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError
from exvo_jax.data.nonverbal import METADATA_FILE, read_corpus
from exvo_jax.data.nonverbal_check import check_nonverbal, describe_nonverbal
from exvo_jax.data.release import DATA_INFO, TEST_LABELS
from exvo_jax.synth import format_summary, write_corpus

RELEASE, NONVERBAL = "release", "nonverbal"


def given_corpus(data: str) -> tuple[Path, str]:
    """The folder given with `--data`, resolved, and its layout (RELEASE or NONVERBAL); anything else, and a
    nonverbal-vocalisation folder whose clips cannot be read as one, is a one-line `DataError`."""
    root = Path(data).resolve()
    if (root / DATA_INFO).exists():
        return root, RELEASE
    if (root / METADATA_FILE).exists():
        read_corpus(root)  # a corpus without clips, or with a misnamed one, is refused before any stage
        return root, NONVERBAL
    raise DataError(f"{root}: neither {DATA_INFO} (a HUME-VB release) nor {METADATA_FILE} (a nonverbal-vocalisation "
                    f"corpus) found; --data must be one of those folders")


def corpus_stage(config: ml_collections.ConfigDict, out: Path, data: str | None, progress: bool) -> dict:
    """Writes the synthetic corpus under `out/corpus` (or uses the folder at `data`); says where and what."""
    if data:
        root, layout = given_corpus(data)
        summary = f"HUME-VB release at {root}" if layout == RELEASE else describe_nonverbal(root)
    else:
        root, layout = out / "corpus", RELEASE
        summary = format_summary(write_corpus(root, **config.corpus.to_dict(), progress=progress))
    return {"path": str(root), "layout": layout, "synthetic": not data, "summary": summary,
            "test_labels": layout == NONVERBAL or (root / TEST_LABELS).exists()}


def check_stage(corpus: dict, config: ml_collections.ConfigDict, progress: bool) -> dict:
    """Checks the corpus (audio included); any error stops the demo with the check's full report."""
    if corpus["layout"] == NONVERBAL:
        return check_nonverbal(corpus["path"], config.nonverbal.fewshot.shots, progress)
    root = corpus["path"]
    check = check_release(root, progress=progress)
    if not check.ok:
        raise DataError(f"{root}: the corpus check failed:\n{check.format()}")
    return {"errors": len(check.errors), "warnings": len(check.warnings)}
