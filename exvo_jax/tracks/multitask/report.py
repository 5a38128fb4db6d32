"""Result tables (Markdown, JSON) and loss-curve plots of multitask runs.

A run's table has one row per seed, then mean +/- std over seeds, the trivial predictor and the linear
yardstick (regularisation chosen on Val), then the same on Test where it is labelled; several runs
(feature sets) render as the paper's Table 2: one row per feature set with mean +/- std over seeds and
a row for its linear yardstick.
A run writes them into its workdir through the run layer (`write_outputs`: process 0 only).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from exvo_jax.atomic import atomic_path  # noqa: E402
from exvo_jax.data.errors import DataError  # noqa: E402
from exvo_jax.run import Run  # noqa: E402

OUTPUTS = {"markdown": "results.md", "json": "results.json", "plot": "losses.png"}
YARDSTICK = "linear yardstick"


def _cell(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4f}"


def _exported(results: Mapping) -> str:
    """How the exported predictor was made, e.g. `exported: mean of 5 seeds, age shrunk x0.3`."""
    exported = results["exported"]
    members = exported["seeds"]
    what = f"mean of {len(members)} seeds" if len(members) > 1 else f"seed {members[0]}"
    shrunk = "".join(f", {task} shrunk x{factor:.1f}" for task, (_, factor) in exported["shrinkage"].items())
    return f"exported: {what}{shrunk}"


def _row(label: str, scores: Mapping[str, float], keys: Sequence[str]) -> str:
    return f"| {label} | " + " | ".join(_cell(scores.get(k, math.nan)) for k in keys) + " |"


def _mean_std_cell(mean: float, std: float) -> str:
    return f"{_cell(mean)} ± {_cell(std)}"


def summary(per_seed: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation over seeds of every score."""
    keys = list(per_seed[0])
    mean = {k: float(np.mean([s[k] for s in per_seed])) for k in keys}
    std = {k: float(np.std([s[k] for s in per_seed])) for k in keys}
    return mean, std


def render_markdown(results: Mapping | Sequence[Mapping]) -> str:
    """One run's per-seed validation table (plus Test mean ± std where labelled), or, for a list of runs,
    one row per run (feature set, validation mean ± std) as in the paper's Table 2."""
    if isinstance(results, Mapping):
        keys = list(results["mean"])
        lines = [f"| {results['feature_set']} | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for seed, scores in zip(results["seeds"], results["per_seed"]):
            marker = " (selected)" if seed == results.get("best_seed") else ""
            lines.append(f"| seed {seed}{marker} | " + " | ".join(_cell(scores[k]) for k in keys) + " |")
        lines.append("| mean ± std | " + " | ".join(_mean_std_cell(results["mean"][k], results["std"][k]) for k in keys) + " |")
        lines.append(_row("trivial predictor", results["trivial"], keys))
        if "exported" in results:
            lines.append(_row(f"{_exported(results)} (chosen on Val)", results["exported"]["val"], keys))
        if "yardstick" in results:
            lines.append(_row(f"{YARDSTICK} (chosen on Val)", results["yardstick"]["val"], keys))
        if "test" in results:
            test = results["test"]
            lines.append("| Test: mean ± std | "
                         + " | ".join(_mean_std_cell(test["mean"][k], test["std"][k]) for k in keys) + " |")
            if "trivial" in test:
                lines.append(_row("Test: trivial predictor", test["trivial"], keys))
            if "test" in results.get("exported", {}):
                lines.append(_row(f"Test: {_exported(results)}", results["exported"]["test"], keys))
            if "test" in results.get("yardstick", {}):
                lines.append(_row(f"Test: {YARDSTICK}", results["yardstick"]["test"], keys))
        return "\n".join(lines) + "\n"
    runs = list(results)
    keys = list(dict.fromkeys(k for run in runs for k in run["mean"]))
    lines = ["| Features | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for run in runs:
        cells = [_mean_std_cell(run["mean"].get(k, math.nan), run["std"].get(k, math.nan)) for k in keys]
        lines.append(f"| {run['feature_set']} | " + " | ".join(cells) + " |")
        if "yardstick" in run:
            lines.append(_row(f"{run['feature_set']}: {YARDSTICK} (chosen on Val)", run["yardstick"]["val"], keys))
    return "\n".join(lines) + "\n"


def plot_losses(path: str | Path, seeds: Sequence[int], train_loss: np.ndarray, val_loss: np.ndarray, title: str) -> None:
    """Training and validation loss per epoch, one colour per seed; train_loss, val_loss: [S, E] (NaN = not run)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    epochs = np.arange(1, train_loss.shape[1] + 1)
    for i, seed in enumerate(seeds):
        colour = f"C{i % 10}"
        ax.plot(epochs, train_loss[i], color=colour, linestyle="--", label=f"train {seed}")
        ax.plot(epochs, val_loss[i], color=colour, label=f"validation {seed}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("uncertainty-weighted loss")
    ax.set_title(title)
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def write_outputs(run: Run, results: dict) -> None:
    """results.md, results.json and losses.png (from `results["history"]`) in the run's workdir, by process 0."""
    run.write_text(OUTPUTS["markdown"], render_markdown(results))
    run.write_json(OUTPUTS["json"], results)
    if run.is_primary:
        history = {k: np.asarray(v, np.float64) for k, v in results["history"].items()}
        plot_losses(run.workdir / OUTPUTS["plot"], results["seeds"], history["train_loss"], history["val_loss"],
                    f"{results['dataset']} / {results['feature_set']}")


def report_data(workdir: str | Path) -> dict:
    """The results a finished `train` wrote in `workdir` (`results.json`), as the report renders them."""
    path = Path(workdir) / OUTPUTS["json"]
    if not path.exists():
        raise DataError(f"{path}: missing; run `exvo-jax multitask train` with this workdir first")
    return json.loads(path.read_text())


def evaluate(workdirs: Sequence[str | Path]) -> str:
    """One Markdown table of the validation (and held-out Test) scores of several finished runs."""
    return render_markdown([report_data(w) for w in workdirs])
