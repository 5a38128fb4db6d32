"""The few-shot machinery on real recordings: a vocalisation-type / age model adapted per speaker.

The Deeply nonverbal-vocalisation sample has no emotion labels, so the few-shot track's nonverbal protocol
(`dataset="nonverbal"`) has the head predict 16 type scores (one-hot targets) and age / 50; speakers with at
least 3 clips of the speaker-disjoint test part are personalised (first 2 clips support, the rest query). The best epoch is chosen on the validation part,
so the test speakers chose nothing. Age is constant per speaker, so 2 labelled clips tell the adapted
model a speaker's age: its age error on the test speakers must fall, and beat the trivial predictor (the
Train mean age) by a margin.
"""

from __future__ import annotations

import json

import pytest

from exvo_jax.config_files import load_config
from exvo_jax.data.nonverbal import NUM_VOCAL_TYPES
from exvo_jax.tracks import fewshot

MIN_AGE_GAIN_YEARS = 1.0  # adapted age MAE below the Train-mean predictor's


@pytest.mark.slow
def test_type_and_age_model_adapts_per_speaker(nonverbal_dir, tmp_path):
    config = load_config("experiments/fewshot/tiny.py")
    config.data_dir, config.dataset = str(nonverbal_dir), "nonverbal"
    config.model.outputs = NUM_VOCAL_TYPES + 1
    config.max_frames, config.buckets = 10, (10,)
    config.train.epochs = 2
    config.adapt.modes, config.adapt.steps, config.adapt.learning_rates = ("bias_head",), (20,), (1e-2,)
    results = fewshot.train(fewshot.settings(config), tmp_path, progress=False)
    assert len(results["speakers"]) >= 3 and results["query_clips"] >= 3
    scores = results["scores"]
    print(f"nonverbal few-shot, {len(results['speakers'])} held-out speakers, {results['query_clips']} query clips: "
          f"{json.dumps(scores)}")
    assert scores["adapted"]["age_mae"] < scores["no adaptation"]["age_mae"]
    assert scores["adapted"]["age_mae"] < scores["trivial"]["age_mae"] - MIN_AGE_GAIN_YEARS
