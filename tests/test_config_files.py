"""Experiment config files: `file.py[:arg]` loading, and `--set KEY=VALUE` overrides."""

from __future__ import annotations

import pytest

from exvo_jax.config_files import apply_override, load_config
from exvo_jax.data.errors import DataError


def test_loads_every_experiment_and_its_tiny_variant():
    for spec in ("experiments/multitask/egemaps.py", "experiments/fewshot/h64.py", "experiments/demo.py"):
        full, tiny = load_config(spec), load_config(f"{spec}:tiny")
        assert full.to_dict() != tiny.to_dict(), spec
    with pytest.raises(DataError, match="nope.py: config file not found"):
        load_config("experiments/nope.py")


def test_overrides_parse_literals_and_dotted_keys():
    config = load_config("experiments/fewshot/h64.py:tiny")
    apply_override(config, "train.epochs=3")
    apply_override(config, "buckets=(10, 20)")
    apply_override(config, "yardstick.feature_set=ComParE")
    assert (config.train.epochs, config.buckets, config.yardstick.feature_set) == (3, (10, 20), "ComParE")
    for bad in ("train.nothing=1", "nothing.epochs=1", "seed", "seed.x=1"):
        with pytest.raises(DataError, match="expected KEY=VALUE with a known"):
            apply_override(config, bad)
