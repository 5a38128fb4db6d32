"""The main job: every track end to end on the built-in synthetic corpus, with one report.

Run:   make demo   (= exvo-jax demo --out runs/demo)
Tiny:  exvo-jax demo --config experiments/demo.py:tiny --out /tmp/demo (seconds-scale; used by the tests)
Expected (default): multitask S_MTL on Test well above the trivial predictor's; few-shot adaptation
raises the query mean CCC over the speaker-independent model. report.md lists the numbers.
"""

import ml_collections

from exvo_jax.config_files import load_config


def get_config(arg=None):
    config = ml_collections.ConfigDict()
    config.corpus = ml_collections.ConfigDict({"speakers": 120, "clips_per_speaker": 6, "seed": 0})
    config.team = "exvo-jax"

    config.multitask = load_config("experiments/multitask/egemaps.py")
    config.multitask.test_labels = True  # the synthetic corpus ships its Test labels for scoring

    config.fewshot = load_config("experiments/fewshot/h64.py")
    config.fewshot.max_frames = 30  # 3 s of audio per clip
    config.fewshot.buckets = (10, 20, 30)
    config.fewshot.train.epochs = 8
    config.fewshot.train.patience = 4
    config.fewshot.episodic.steps = 100

    if arg == "tiny":
        config.corpus = ml_collections.ConfigDict({"speakers": 24, "clips_per_speaker": 5, "seed": 0})
        config.multitask = load_config("experiments/multitask/egemaps.py:tiny")
        config.multitask.test_labels = True
        config.fewshot = load_config("experiments/fewshot/tiny.py")
        config.fewshot.episodic.steps = 10
    return config
