"""Shared pytest fixtures: a small synthetic HUME-VB corpus and the real nonverbal-vocalisation sample.

Every process of a test session (both xdist workers and the child processes, which inherit the environment)
shares one fresh XLA compilation cache, so a program compiled by one of them (a run killed and resumed in new
processes, a trainer that another worker already compiled) is not compiled again. A cache named in
`JAX_COMPILATION_CACHE_DIR` beforehand is used instead.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.paths import REPO

if "JAX_COMPILATION_CACHE_DIR" not in os.environ:  # set before any test module imports jax
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="exvo-jax-tests-xla-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


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


@pytest.fixture(scope="session")
def generate_corpus(tmp_path_factory) -> Path:
    """The Generate tests' corpus: 60 speakers x 10 clips, about 300 Train clips (30 per emotion) and 240 Val."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("generate_corpus")
    write_corpus(root, speakers=60, clips_per_speaker=10, seed=5, split_fractions=(0.5, 0.4, 0.1), progress=False)
    return root


@pytest.fixture(scope="session")
def trained_gan(generate_corpus, tmp_path_factory) -> Path:
    """Workdir of the one tiny conditional GAN that every Generate test scores (`tests/support/shared_gan.py`: about
    70 s on two cores), trained through the command line with previews and checkpoints every PREVIEW_EVERY
    iterations. Mark the tests that use it `xdist_group("generate")` so that one worker trains it once."""
    from exvo_jax.cli import main
    from tests.support.shared_gan import CONFIG, PREVIEW_EVERY, STEPS

    workdir = tmp_path_factory.mktemp("generate_run")
    assert main(["generate", "train", "--config", CONFIG, "--data-dir", str(generate_corpus), "--workdir",
                 str(workdir), "--set", f"steps={STEPS}", "--set", f"sample_every={PREVIEW_EVERY}",
                 "--set", f"checkpoint_every={PREVIEW_EVERY}"]) == 0
    return workdir
