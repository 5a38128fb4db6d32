"""Periodic previews of a training run: a grid of real and generated log-mels per emotion, and a few wavs.

At each sample point the run writes `samples/step_<step>.png` (one row per emotion: real clips on the
left, EMA-generator samples on the right, one colour scale for the whole grid, as the paper's Figure 2)
and `samples/step_<step>/<Emotion>_<k>.wav`. Only the newest `keep` sample points stay on disk.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import jax
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.data.audio import write_wav
from exvo_jax.tracks.generate.sampler import Sampler

SAMPLES = "samples"
_POINT = re.compile(r"^step_(\d+)(\.png)?$")


def draw_grid(path: Path, real: Mapping[str, np.ndarray], generated: Mapping[str, np.ndarray], title: str) -> Path:
    """PNG of one row per emotion: its real log-mels `[k, M, T]`, then its generated ones, one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(generated)
    n_real = max(len(real.get(n, ())) for n in names)
    n_generated = max(len(generated[n]) for n in names)
    height, width = next(iter(generated.values())).shape[1:]
    gap = max(1, width // 16)
    mosaic = np.full((len(names) * (height + gap), (n_real + n_generated) * (width + gap) + gap), np.nan)
    for row, name in enumerate(names):
        cells = [(c, m) for c, m in enumerate(real.get(name, ()))]
        cells += [(n_real + c, m) for c, m in enumerate(generated[name])]
        for column, mel in cells:
            top, left = row * (height + gap), column * (width + gap) + (gap if column >= n_real else 0)
            mosaic[top:top + height, left:left + width] = mel[::-1]  # low bands at the bottom of each cell
    low, high = np.nanpercentile(mosaic, [1, 99.9])
    fig, ax = plt.subplots(figsize=(0.3 + 0.25 * mosaic.shape[1] / height, 0.6 + 0.45 * len(names)))
    ax.imshow(mosaic, aspect="auto", vmin=low, vmax=high, cmap="magma", interpolation="nearest")
    ax.set_yticks([row * (height + gap) + height / 2 for row in range(len(names))], names, fontsize=8)
    middle = [n_real * (width + gap) / 2, n_real * (width + gap) + gap + n_generated * (width + gap) / 2]
    ax.set_xticks(middle, [f"real ({n_real})", f"generated, EMA ({n_generated})"], fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
    return path


def write_preview(workdir: Path, step: int, sampler: Sampler, real: Mapping[str, np.ndarray], columns: int,
                  audio_per_emotion: int, seed: int, keep: int) -> Path:
    """Writes the grid and wavs of sample point `step`, then removes all but the newest `keep` points."""
    root = Path(workdir) / SAMPLES
    key = jax.random.fold_in(jax.random.PRNGKey(seed), step)
    generated = {e: sampler.mels(e, columns, key) for e in sampler.emotions}
    grid = draw_grid(root / f"step_{step:07d}.png", real, generated, f"iteration {step}")
    if audio_per_emotion:
        for emotion in sampler.emotions:
            for k, wave in enumerate(sampler.waves(emotion, audio_per_emotion, key)):
                write_wav(root / f"step_{step:07d}" / f"{emotion}_{k}.wav", wave)
    prune(root, keep)
    return grid


def prune(root: Path, keep: int) -> None:
    """Keeps the newest `keep` sample points (grid and audio folder) under `root`."""
    points = sorted({int(m.group(1)) for p in root.iterdir() if (m := _POINT.match(p.name))})
    for step in points[:-keep] if keep else points:
        (root / f"step_{step:07d}.png").unlink(missing_ok=True)
        shutil.rmtree(root / f"step_{step:07d}", ignore_errors=True)
