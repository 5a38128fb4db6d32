"""Random speakers to adapt, for the few-shot adaptation tests and their 8-device child: the sizes of a small
sequence head and speakers of two support clips and up to five query clips of random frame features."""

from __future__ import annotations

import numpy as np

from exvo_jax.tracks.fewshot.adapt import SpeakerTask

HIDDEN, FEATURES, OUTPUTS, BUCKETS = 12, 16, 10, (5, 10)


def make_tasks(count: int, seed: int = 0, longest: int = 10) -> list[SpeakerTask]:
    rng = np.random.default_rng(seed)

    def clip():
        return rng.normal(size=(int(rng.integers(2, longest + 1)), FEATURES)).astype(np.float32)

    return [SpeakerTask(f"s{i}", (clip(), clip()), rng.uniform(size=(2, OUTPUTS)).astype(np.float32),
                        tuple(clip() for _ in range(int(rng.integers(0, 6))))) for i in range(count)]
