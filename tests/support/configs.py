"""The tests' tiny configs, one builder per track, so that every test and child process trains the same
small models: few epochs, small networks, settings that compile few programs.

`*_config` gives the ConfigDict (what a config file and `--set` give the command line); `*_settings` the
track's settings made from it, what the trainers take."""

from __future__ import annotations

from pathlib import Path

import ml_collections

from exvo_jax.config_files import apply_override, load_config
from exvo_jax.tracks import fewshot, generate, multitask
from exvo_jax.tracks.fewshot.config import FewshotSettings
from exvo_jax.tracks.generate.config import GenerateSettings
from exvo_jax.tracks.multitask.config import MultitaskSettings, default_config


def multitask_config(data_dir: Path | None = None, **overrides) -> ml_collections.ConfigDict:
    """The multitask trainer for 4 epochs, then `overrides`.

    With `data_dir`: experiments/multitask/egemaps.py:tiny reading that release, with one trunk layer (fewer
    programs to compile) and a checkpoint every epoch. Without: the baseline's defaults with seeds 1, 2 and 3,
    for data held in memory.
    """
    if data_dir is None:
        config = default_config()
        config.seeds = (1, 2, 3)
        config.max_epochs = 4
    else:
        config = load_config("experiments/multitask/egemaps.py:tiny")
        config.data_dir = str(data_dir)
        config.max_epochs, config.checkpoint_every, config.trunk = 4, 1, (32,)
    config.update(overrides)
    return config


def fewshot_config(*sets: str, data_dir: Path | None = None) -> ml_collections.ConfigDict:
    """experiments/fewshot/tiny.py reading `data_dir` (where given), then the `--set` assignments `sets` in turn."""
    config = load_config("experiments/fewshot/tiny.py")
    if data_dir is not None:
        config.data_dir = str(data_dir)
    for assignment in sets:
        apply_override(config, assignment)
    return config


def generate_config(corpus: Path, emotions: tuple[str, ...], steps: int,
                    name: str = "msg_gan") -> ml_collections.ConfigDict:
    """experiments/generate/<name>.py:tiny on `corpus` for `steps` iterations of the `emotions`' models."""
    config = load_config(f"experiments/generate/{name}.py:tiny")
    config.data_dir = str(corpus)
    config.emotions = emotions
    config.batch_size = 8
    config.steps = steps
    config.log_every = 1  # losses of every iteration in metrics.jsonl
    config.checkpoint_every = 2
    config.sample_every = 0  # previews are tested with the trained GAN of test_generate_learning.py
    return config


def multitask_settings(data_dir: Path | None = None, **overrides) -> MultitaskSettings:
    return multitask.settings(multitask_config(data_dir, **overrides))


def fewshot_settings(*sets: str, data_dir: Path | None = None) -> FewshotSettings:
    return fewshot.settings(fewshot_config(*sets, data_dir=data_dir))


def generate_settings(corpus: Path, emotions: tuple[str, ...], steps: int, name: str = "msg_gan",
                      **overrides) -> GenerateSettings:
    config = generate_config(corpus, emotions, steps, name)
    config.update(overrides)
    return generate.settings(config)
