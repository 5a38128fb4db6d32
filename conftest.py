"""Shared pytest fixtures: a small synthetic HUME-VB corpus and the real nonverbal-vocalisation sample."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory) -> Path:
    """A deterministic synthetic corpus in the release layout (24 speakers x 5 clips), built once per run."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("synthetic_corpus")
    write_corpus(root, speakers=24, clips_per_speaker=5, seed=0)
    return root


@pytest.fixture(scope="session")
def nonverbal_dir() -> Path:
    """The real-recording sample (read-only, never copied); skips with the reason where it is absent."""
    path = Path(os.environ.get("EXVO_NONVERBAL_DIR", REPO.parent / "shared" / "data" / "nonverbal_vocalization"))
    if not (path / "Nonverbal_Vocalization_metadata.json").exists():
        pytest.skip(f"real nonverbal-vocalisation sample not found at {path} (set EXVO_NONVERBAL_DIR)")
    return path


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory, synthetic_corpus) -> Path:
    """One `exvo-jax demo --size tiny --data <release>` run folder shared by the demo and report tests (mark
    them `xdist_group("demo")` so that one worker runs them all and the demo once). The release is
    `synthetic_corpus`, the corpus the tiny demo would write itself. What the run printed is kept beside the
    folder, in `console.txt`."""
    from exvo_jax.cli import main

    out = tmp_path_factory.mktemp("tiny_demo") / "demo"
    console = io.StringIO()
    with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
        code = main(["demo", "--size", "tiny", "--out", str(out), "--data", str(synthetic_corpus), "--no-progress"])
    (out.parent / "console.txt").write_text(console.getvalue())
    assert code == 0, console.getvalue()[-5000:]
    return out
