"""Test-sized few-shot run: H=16, a narrow CNN (8/16/16 channels), 2 s clips, few epochs; the tests use it.

Run:   exvo-jax fewshot train --config experiments/fewshot/tiny.py --data-dir <synthetic release> \
           --workdir runs/fewshot_tiny
Expected: on the synthetic corpus (24 speakers x 5 clips) adapted mean CCC above the speaker-independent one.
"""

from exvo_jax.tracks.fewshot.config import default_config, make_tiny


def get_config(arg=None):
    config = make_tiny(default_config(hidden=16))
    config.model.channels = (8, 16, 16)
    return config
