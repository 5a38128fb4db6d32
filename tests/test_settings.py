"""Configs become each track's frozen settings in one call; every range check lives there, and so do the meshes.

The tracks' `settings(config)` (`exvo_jax.settings.from_config` under it) is the one place a config file's
ConfigDict is read: these tests hold that the experiment configs convert, that the conversion is exact (the
defaults round-trip), and that a typo or an out-of-range value is one `DataError` naming the field.
"""

from __future__ import annotations

import dataclasses
import json

import jax
import pytest

from exvo_jax.config_files import load_config
from exvo_jax.data.errors import DataError
from exvo_jax.parallel import mesh_from_config
from exvo_jax.run.config_diff import plain_config
from exvo_jax.settings import as_config, as_dict
from exvo_jax.tracks import fewshot, generate, multitask
from exvo_jax.tracks.fewshot.config import FewshotSettings
from exvo_jax.tracks.generate.config import GenerateSettings
from exvo_jax.tracks.multitask.config import MultitaskSettings

EXPERIMENTS = [
    (multitask, "experiments/multitask/compare.py"), (multitask, "experiments/multitask/egemaps.py:tiny"),
    (multitask, "experiments/multitask/nonverbal.py"), (fewshot, "experiments/fewshot/h64.py:tiny"),
    (fewshot, "experiments/fewshot/h256.py"), (generate, "experiments/generate/msg_gan.py:tiny"),
    (generate, "experiments/generate/conditional.py"), (generate, "experiments/generate/extra_adam.py"),
]


@pytest.mark.parametrize("track, spec", EXPERIMENTS, ids=[spec for _, spec in EXPERIMENTS])
def test_every_experiment_config_converts_to_frozen_settings(track, spec):
    config = load_config(spec)
    settings = track.settings(config)
    assert type(settings).__name__ in track.__all__
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data_dir = "elsewhere"
    assert plain_config(settings) == plain_config(config)  # what the run records is what the file says


@pytest.mark.parametrize("cls", [MultitaskSettings, FewshotSettings, GenerateSettings])
def test_defaults_round_trip_through_a_config(cls):
    settings = cls()
    assert cls.__module__.endswith(".config")
    config = as_config(settings)
    assert json.loads(config.to_json()) == as_dict(settings)
    track = {MultitaskSettings: multitask, FewshotSettings: fewshot, GenerateSettings: generate}[cls]
    assert track.settings(config) == settings


def test_classifier_settings_are_the_recognition_training_settings():
    settings = generate.classifier_settings(load_config("experiments/generate/classifier.py:tiny"))
    assert (settings.model.hidden, settings.max_frames, settings.train.epochs) == (16, 5, 12)


@pytest.mark.parametrize("track, spec, field, value, named", [
    (multitask, "experiments/multitask/egemaps.py", "batch_size", 0, "batch_size"),
    (multitask, "experiments/multitask/egemaps.py", "learning_rate", float("nan"), "learning_rate"),
    (multitask, "experiments/multitask/egemaps.py", "seeds", (), "seeds"),
    (multitask, "experiments/multitask/egemaps.py", "lr_schedule", "linear", "lr_schedule"),
    (multitask, "experiments/multitask/egemaps.py", "max_epochs", 2.5, "max_epochs"),
    (fewshot, "experiments/fewshot/tiny.py", "shots", 0, "shots"),
    (fewshot, "experiments/fewshot/tiny.py", "train.epochs", 0, "train.epochs"),
    (fewshot, "experiments/fewshot/tiny.py", "train.learning_rate", -1e-3, "train.learning_rate"),
    (fewshot, "experiments/fewshot/tiny.py", "adapt.modes", ("full", "magic"), "adapt.modes"),
    (fewshot, "experiments/fewshot/tiny.py", "model.hidden", 0, "model.hidden"),
    (generate, "experiments/generate/conditional.py:tiny", "batch_size", 1, "batch_size"),
    (generate, "experiments/generate/conditional.py:tiny", "mel.frames", 128, "differs from the output 16 x 64"),
    (generate, "experiments/generate/conditional.py:tiny", "checkpoint_every", 26, "multiple of log_every"),
    (generate, "experiments/generate/conditional.py:tiny", "emotions", ("Awe", "Awe"), "emotions must be"),
])
def test_an_out_of_range_field_is_one_line_naming_it(track, spec, field, value, named):
    config = load_config(spec).to_dict()  # a plain mapping: a ConfigDict would refuse some types itself
    *parents, leaf = field.split(".")
    node = config
    for name in parents:
        node = node[name]
    node[leaf] = value
    with pytest.raises(DataError, match=named) as refused:
        track.settings(config)
    assert "\n" not in str(refused.value)


def test_an_unknown_field_is_refused_with_the_known_ones():
    config = load_config("experiments/fewshot/tiny.py")
    config.train.epocs = 3
    with pytest.raises(DataError, match=r"config\.train\.epocs: unknown setting \(known here: batch_size, epochs"):
        fewshot.settings(config)


def test_a_few_shot_run_on_the_nonverbal_corpus_predicts_its_17_outputs():
    config = load_config("experiments/fewshot/tiny.py")
    config.dataset = "nonverbal"
    with pytest.raises(DataError, match="model.outputs must be 17"):
        fewshot.settings(config)
    config.model.outputs = 17
    assert fewshot.settings(config).model.outputs == 17


def test_every_trainer_mesh_is_built_and_checked_in_one_place():
    mesh = mesh_from_config({"seeds": -1, "data": 1}, [(8, "data", "batch_size")])
    assert dict(mesh.shape) == {"seeds": jax.device_count(), "data": 1}
    assert dict(mesh_from_config({"speakers": -1}).shape) == {"speakers": jax.device_count()}
    with pytest.raises(DataError, match=r"adapt.mesh \{'speakers': 0\}: mesh axis sizes"):
        mesh_from_config({"speakers": 0}, setting="adapt.mesh")
    with pytest.raises(DataError, match="unknown mesh axis"):
        mesh_from_config({"rows": -1})
