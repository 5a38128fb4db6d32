"""The report's figures as PNG files: emotion map, training curves, CCC bars, speaker and adaptation plots, heat maps.

Every function draws one figure from plain numbers and writes it atomically to `path`; none reads a run
folder (`exvo_jax.report.collect` does), so each can be drawn and tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from exvo_jax.atomic import atomic_path  # noqa: E402

DPI = 90


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    plt.close(fig)
    return path


def emotion_map(path: Path, blends: np.ndarray, names: Sequence[str], seed: int = 0) -> Path:
    """The paper's Figure 1: t-SNE of every clip's 10-d emotion blend, coloured by its strongest emotion."""
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(blends) - 1) // 3)))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(blends)
    dominant = np.argmax(blends, axis=1)
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    for k, name in enumerate(names):
        mine = dominant == k
        if mine.any():
            ax.scatter(xy[mine, 0], xy[mine, 1], s=9, color=plt.cm.tab10(k), label=f"{name} ({mine.sum()})")
    ax.set_title(f"t-SNE of {len(blends)} clips' emotion blends, coloured by the strongest emotion", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def training_curves(path: Path, curves: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
                    xlabels: Mapping[str, str]) -> Path:
    """One panel per trainer; each holds named (x, y) curves, e.g. {"multitask": {"train seed 101": (x, y)}}."""
    fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves), 3.6), squeeze=False)
    for ax, (trainer, lines) in zip(axes[0], curves.items()):
        for label, (x, y) in lines.items():
            ax.plot(x, y, label=label, linestyle="--" if label.startswith("train") else "-")
        ax.set_title(trainer, fontsize=10)
        ax.set_xlabel(xlabels.get(trainer, "step"))
        ax.legend(fontsize=6, ncol=2)
    return _save(fig, path)


def grouped_bars(path: Path, groups: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str,
                 title: str) -> Path:
    """Bars per group (emotion), one colour per series (model / setting)."""
    fig, ax = plt.subplots(figsize=(min(13.0, max(6.5, 0.25 * len(groups) * len(series))), 4.0))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(x, groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return _save(fig, path)


def before_after(path: Path, before: Sequence[float], after: Sequence[float], title: str, measure: str = "CCC",
                 higher_is_better: bool = True) -> Path:
    """Per-speaker `measure` before (x) vs after (y) adaptation, with the diagonal: points on the better side
    of it (above where higher is better, else below) improved."""
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    before, after = np.asarray(before), np.asarray(after)
    low = float(min(before.min(), after.min(), 0.0)) - 0.05
    high = float(max(before.max(), after.max(), 0.0)) + 0.05
    ax.plot([low, high], [low, high], color="grey", linewidth=0.8)
    better = after > before if higher_is_better else after < before
    ax.scatter(before[better], after[better], s=14, color="tab:green", label=f"improved ({better.sum()})")
    ax.scatter(before[~better], after[~better], s=14, color="tab:red", label=f"not improved ({(~better).sum()})")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel(f"{measure} without adaptation")
    ax.set_ylabel(f"{measure} after adaptation")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


def heat_maps(path: Path, panels: Mapping[str, tuple[np.ndarray, Sequence[str], Sequence[str]]],
              xlabel: str | Mapping[str, str], ylabel: str | Mapping[str, str], cmap: str = "viridis",
              fmt: str = "{:.3f}") -> Path:
    """One annotated heat map per panel: {title: (values [R, C], row labels, column labels)}, one colour scale;
    each axis label is one for all panels (the y label then shown on the first only) or one per panel title."""
    values = [np.asarray(v, np.float64) for v, _, _ in panels.values()]
    low = min(np.nanmin(v) for v in values)
    high = max(np.nanmax(v) for v in values)
    width = sum(max(2.5, 0.7 * v.shape[1] + 1.2) for v in values)
    height = max(2.6, 0.42 * max(v.shape[0] for v in values) + 1.4)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), squeeze=False, gridspec_kw={"wspace": 0.45})
    for i, (ax, (title, (grid, rows, columns))) in enumerate(zip(axes[0], panels.items())):
        grid = np.asarray(grid, np.float64)
        image = ax.imshow(grid, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        ax.set_xticks(range(len(columns)), columns, rotation=40, ha="right", fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set_xlabel(xlabel if isinstance(xlabel, str) else xlabel.get(title, ""), fontsize=8)
        if not isinstance(ylabel, str):
            ax.set_ylabel(ylabel.get(title, ""), fontsize=8)
        elif i == 0:
            ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(title, fontsize=9)
        if grid.size <= 144:
            for (r, c), v in np.ndenumerate(grid):
                if np.isfinite(v):
                    red, green, blue, _ = image.cmap(image.norm(v))
                    light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
                    ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=6,
                            color="black" if light else "white")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path
