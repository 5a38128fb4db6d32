"""Multitask data held in memory, for the trainer tests and their 8-device child: the three kinds of ExVo
task (intensities, a regression, a classification) with labels that follow random features."""

from __future__ import annotations

import numpy as np

from exvo_jax.models.multitask import TaskSpec
from exvo_jax.tracks.multitask.data import MultitaskData, SplitData

TASKS = (TaskSpec("emotion", "intensity", 10), TaskSpec("age", "regression", 1),
         TaskSpec("country", "classification", 4))


def random_split(rng: np.random.Generator, n: int, dim: int) -> SplitData:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    labels = {
        "emotion": 1 / (1 + np.exp(-x[:, :10])).astype(np.float32),
        "age": (28 + 4 * x[:, 0]).astype(np.float32),
        "country": (x[:, 1] > 0).astype(np.int32) + 2 * (x[:, 2] > 0).astype(np.int32),
    }
    return SplitData(tuple(str(i) for i in range(n)), x, labels)


def small_data() -> MultitaskData:
    """37 Train rows (in batches of 8 the last one is partial: 5 rows) and 20 Val rows of 12 features, seeded."""
    rng = np.random.default_rng(0)
    return MultitaskData(TASKS, random_split(rng, 37, 12), random_split(rng, 20, 12), None, {})
