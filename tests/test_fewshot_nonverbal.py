"""The few-shot machinery on real recordings: a vocalisation-type / age model adapted per speaker.

The Deeply nonverbal-vocalisation sample has no emotion labels, so the head predicts 16 type scores
(one-hot targets) and age / 50; speakers with at least 3 clips of the speaker-disjoint test part are
personalised (first 2 clips support, the rest query). The best epoch is chosen on the validation part,
so the test speakers chose nothing. Age is constant per speaker, so 2 labelled clips tell the adapted
model a speaker's age: its age error on the test speakers must fall, and beat the trivial predictor (the
Train mean age) by a margin.
"""

from __future__ import annotations

import numpy as np
import pytest

from exvo_jax.config_files import load_config
from exvo_jax.data.nonverbal import NUM_VOCAL_TYPES, read_corpus, split_corpus
from exvo_jax.data.speakers import group_by_speaker
from exvo_jax.demo.nonverbal import AGE_SCALE, type_and_age_targets
from exvo_jax.recognition.framing import load_frames
from exvo_jax.recognition.inference import encode_clips
from exvo_jax.recognition.training import FramedSet, build_model, fit
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks

MIN_AGE_GAIN_YEARS = 1.0  # adapted age MAE below the Train-mean predictor's


@pytest.mark.slow
def test_type_and_age_model_adapts_per_speaker(nonverbal_dir, tmp_path):
    parts = split_corpus(read_corpus(nonverbal_dir))
    config = load_config("experiments/fewshot/tiny.py")
    config.model.outputs = NUM_VOCAL_TYPES + 1
    config.max_frames, config.buckets = 10, (10,)
    config.train.epochs = 2
    train = list(parts["train"])
    test = [c for clips in group_by_speaker(parts["test"]).values() if len(clips) >= 3 for c in clips]
    assert len({c.speaker for c in test}) >= 3
    frames = {name: load_frames([c.path for c in clips], config.max_frames)
              for name, clips in (("train", train), ("test", test))}
    validation = list(parts["validation"])
    record, _ = fit(config, tmp_path, FramedSet(frames["train"], type_and_age_targets(train)),
                    FramedSet(load_frames([c.path for c in validation], config.max_frames), type_and_age_targets(validation)),
                    progress=False)
    features = encode_clips(build_model(config), {"params": record.best_params, "batch_stats": record.best_batch_stats},
                            frames["test"], batch_size=16, buckets=config.buckets)
    tasks, _ = speaker_tasks(test, features, type_and_age_targets(test), shots=2)
    tasks = [t for t in tasks if t.query]
    truth = np.concatenate([t.query_targets for t in tasks])
    results = {}
    for name, settings in (("before", AdaptSettings(steps=0)),
                           ("after", AdaptSettings(mode="bias_head", steps=20, learning_rate=1e-2))):
        predictions = np.concatenate(personalise(record.best_params["head"], tasks, settings,
                                                 hidden=config.model.hidden, outputs=config.model.outputs,
                                                 buckets=config.buckets))
        assert predictions.shape == truth.shape and np.all(np.isfinite(predictions))
        results[name] = {
            "type_accuracy": float(np.mean(predictions[:, :-1].argmax(1) == truth[:, :-1].argmax(1))),
            "age_mae_years": float(np.mean(np.abs(predictions[:, -1] - truth[:, -1])) * AGE_SCALE),
        }
    trivial = float(np.mean(np.abs(type_and_age_targets(train)[:, -1].mean() - truth[:, -1])) * AGE_SCALE)
    print(f"nonverbal few-shot, {len(tasks)} held-out speakers, {len(truth)} query clips: {results}, "
          f"train-mean age MAE {trivial:.2f}")
    assert results["after"]["age_mae_years"] < results["before"]["age_mae_years"]
    assert results["after"]["age_mae_years"] < trivial - MIN_AGE_GAIN_YEARS
