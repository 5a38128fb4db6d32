"""Choosing how to personalise on the selection speakers, and scoring a choice as a timed Table 4 row.

The grid holds every gradient mode (`full`, `bias_head`, `lora`) at every K and learning rate of
`fewshot.adapt`, and `ridge` at every strength of `fewshot.adapt.ridge_strengths`; each point adapts
every selection speaker (support = first `shots` clips) and is scored on their query clips.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np
from jax.sharding import Mesh

from exvo_jax.metrics import ccc

from exvo_jax.tracks.fewshot.adapt import AdaptSettings, personalise
from exvo_jax.tracks.fewshot.inference import speaker_tasks
from exvo_jax.tracks.fewshot.report import score_row, submitted
from exvo_jax.tracks.fewshot.config import FewshotSettings

GRADIENT_MODES = ("full", "bias_head", "lora")


def adapt_settings(fewshot: FewshotSettings, mode: str, steps: int, learning_rate: float,
                   ridge_strength: float = AdaptSettings.ridge_strength) -> AdaptSettings:
    return AdaptSettings(mode=mode, steps=steps, learning_rate=learning_rate, weight_decay=fewshot.adapt.weight_decay,
                         lora_rank=fewshot.adapt.lora_rank, strategy=fewshot.adapt.strategy,
                         chunk_size=fewshot.adapt.chunk_size, seed=fewshot.seed, ridge_strength=ridge_strength)


def describe(settings: AdaptSettings) -> str:
    """`ridge, strength=0.1` or `full, K=10, lr=0.001`: the settings that matter for the mode."""
    if settings.mode == "ridge":
        return f"ridge, strength={settings.ridge_strength:g}"
    return f"{settings.mode}, K={settings.steps}, lr={settings.learning_rate:g}"


def adaptation_grid(fewshot: FewshotSettings) -> list[AdaptSettings]:
    """Every point of the selection grid, mode by mode in `fewshot.adapt.modes` order."""
    grid = []
    for mode in fewshot.adapt.modes:
        if mode == "ridge":
            grid += [adapt_settings(fewshot, mode, 0, 0.0, strength) for strength in fewshot.adapt.ridge_strengths]
        else:
            grid += [adapt_settings(fewshot, mode, steps, lr) for steps in fewshot.adapt.steps
                     for lr in fewshot.adapt.learning_rates]
    return grid


@dataclasses.dataclass
class EvalSet:
    """Speaker tasks of one split, the pooled query targets `[Q, K]` in task order and those clips' indices."""

    split: str
    tasks: list
    targets: np.ndarray
    query_index: np.ndarray


def eval_set(split: str, clips, features, targets, shots: int) -> EvalSet:
    tasks, query = speaker_tasks(clips, features, targets, shots=shots)
    kept = [i for i, task in enumerate(tasks) if task.query]
    if not kept:
        raise ValueError(f"{split}: no speaker has more than {shots} clips, nothing to evaluate")
    index = np.concatenate([np.asarray(query[i], np.int64) for i in kept])
    return EvalSet(split, [tasks[i] for i in kept], np.concatenate([tasks[i].query_targets for i in kept]), index)


def run_adaptation(head_params, data: EvalSet, settings: AdaptSettings, fewshot: FewshotSettings, progress: bool,
                   mesh: Mesh) -> np.ndarray:
    """Pooled query predictions `[Q, K]` after adapting to every speaker of `data` (speakers split over `mesh`)."""
    predictions = personalise(head_params, data.tasks, settings, hidden=fewshot.model.hidden,
                              outputs=fewshot.model.outputs, buckets=tuple(fewshot.buckets), progress=progress,
                              mesh=mesh)
    return np.concatenate(predictions)


def speaker_ccc(score: Scorer, data: EvalSet, head_params, before: AdaptSettings, after: AdaptSettings) -> list[dict]:
    """Per speaker of `data`: the CCC of its query clips x outputs without adaptation (`before`) and after it
    (`after`), as submitted. One CCC pools a speaker's query predictions of every output: a speaker has only
    a few query clips, too few for a CCC per output."""
    predicted = {name: submitted(score.adapted(data, head_params, settings))
                 for name, settings in (("before", before), ("after", after))}
    score, rows, start = jax.jit(ccc), [], 0
    for task in data.tasks:
        stop = start + len(task.query_targets)
        truth = task.query_targets.ravel()
        rows.append({"speaker": task.speaker, "query_clips": int(stop - start),
                     **{name: float(score(truth, p[start:stop].ravel())) for name, p in predicted.items()}})
        start = stop
    return rows


@dataclasses.dataclass
class Selection:
    """Every grid point's settings and its score on the selection split (`grid`: plain records for results)."""

    points: list[AdaptSettings]
    grid: list[dict]

    def best(self, modes=None) -> AdaptSettings | None:
        """The best-scoring settings (the first on ties), among `modes` if given; None if none is in the grid."""
        candidates = [i for i, p in enumerate(self.points) if modes is None or p.mode in modes]
        return self.points[max(candidates, key=lambda i: self.grid[i]["val_mean_ccc"])] if candidates else None

    def gradient_settings(self, fewshot: FewshotSettings) -> AdaptSettings:
        """Settings for what needs optimiser steps (episodic training's inner loop): the best selected settings
        unless they are `ridge`, else the best gradient mode's, else `full` at the grid's first K and rate."""
        best = self.best()
        if best.mode != "ridge":
            return best
        return self.best(GRADIENT_MODES) or adapt_settings(fewshot, "full", fewshot.adapt.steps[0],
                                                           fewshot.adapt.learning_rates[0])


def select_adaptation(head_params, val: EvalSet, fewshot: FewshotSettings, names, progress: bool,
                      mesh: Mesh) -> Selection:
    """Scores the whole grid on the selection split."""
    points = adaptation_grid(fewshot)
    grid = []
    for settings in points:
        row = score_row("", settings.mode, val.split, names, val.targets,
                        run_adaptation(head_params, val, settings, fewshot, progress, mesh))
        ridge = settings.mode == "ridge"  # steps and learning rate 0, no strength for the gradient modes
        grid.append({"mode": settings.mode, "steps": settings.steps, "learning_rate": settings.learning_rate,
                     "ridge_strength": settings.ridge_strength if ridge else None, "val_mean_ccc": row["mean_ccc"]})
    return Selection(points, grid)


@dataclasses.dataclass
class Scorer:
    """Scores a head + adaptation settings on a split's query clips as a Table 4 row, timed."""

    fewshot: FewshotSettings
    model_name: str
    names: list[str]
    progress: bool
    mesh: Mesh  # speakers are split over its `speakers` axis
    # pooled query predictions of every scored (split, head, settings), for the per-speaker scores
    predictions: dict = dataclasses.field(default_factory=dict)

    def __call__(self, setting: str, data: EvalSet, head_params, settings: AdaptSettings) -> dict:
        start = time.perf_counter()
        predictions = self.adapted(data, head_params, settings)
        seconds = time.perf_counter() - start
        row = score_row(self.model_name, setting, data.split, self.names, data.targets, predictions)
        return {**row, "seconds": seconds}

    def adapted(self, data: EvalSet, head_params, settings: AdaptSettings) -> np.ndarray:
        """Pooled query predictions after adapting `head_params` with `settings` to every speaker of `data`
        (computed once per split, head and settings)."""
        key = (data.split, id(head_params), settings)
        if key not in self.predictions:
            self.predictions[key] = run_adaptation(head_params, data, settings, self.fewshot, self.progress, self.mesh)
        return self.predictions[key]


def mode_rows(score: Scorer, data: EvalSet, head_params, selection: Selection, modes, selected_row: dict) -> list[dict]:
    """One timed row per mode at its best settings on the selection split; the selected settings' row
    is `selected_row` (already scored on `data`), relabelled."""
    rows = []
    for mode in modes:
        settings = selection.best((mode,))
        if settings == selection.best():
            rows.append({**selected_row, "setting": describe(settings)})
        else:
            rows.append(score(describe(settings), data, head_params, settings))
    return rows
