"""Few-shot results as Table 4 of the ExVo paper (per-emotion CCC and mean CCC), Markdown, JSON and a plot.

Rows score exactly what a submission holds: predictions pass through `submitted` (clipped to the
[0, 1] intensity range) both here and in `predict` before they are written. Rows that timed their
adaptation carry `seconds`, shown in a last column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from exvo_jax.atomic import atomic_path, write_text  # noqa: E402
from exvo_jax.data.errors import DataError  # noqa: E402
from exvo_jax.metrics import ccc  # noqa: E402

RESULTS_JSON = "fewshot_results.json"
TABLE_MD = "fewshot_table4.md"
PLOT_PNG = "fewshot_training.png"


EMOTION_RANGE = (0.0, 1.0)


def submitted(predictions: np.ndarray) -> np.ndarray:
    """Emotion predictions as the submission writes them: clipped to the [0, 1] intensity range."""
    return np.clip(np.asarray(predictions), *EMOTION_RANGE)


def score_row(model: str, setting: str, split: str, names: Sequence[str], y_true: np.ndarray,
              y_pred: np.ndarray) -> dict:
    """One table row: population CCC per output column and their mean, pooled over all query clips,
    of the predictions as submitted (`submitted(y_pred)`)."""
    per_column = np.asarray(jax.jit(ccc)(y_true, submitted(y_pred)), np.float64)
    return {"model": model, "setting": setting, "split": split, "clips": int(len(y_true)),
            "ccc": {n: float(v) for n, v in zip(names, per_column)}, "mean_ccc": float(np.mean(per_column))}


def table_header(model_name: str, report: str, select: str, shots: int, held_out: bool = False) -> str:
    """Title and protocol line above Table 4: what was scored, on which speakers, and where choices were made."""
    kept_out = " (Val speakers held out from every choice)" if held_out else ""
    return (f"# Few-shot personalisation, {model_name} (Table 4 layout)\n\nPopulation CCC of the predictions as "
            f"submitted (clipped to [0, 1]) on the query clips of {report} speakers{kept_out} (support: first "
            f"{shots} clips of each speaker). Best epoch, adaptation settings and head chosen on {select} "
            f"speakers with the same protocol. Seconds: wall time to adapt every speaker of the split and predict "
            f"its query clips, encoder features computed beforehand (programs compiled during selection are "
            f"reused; new shapes compile within the time). Yardsticks beside them: the Train-mean predictor and "
            f"a ridge regression on the clips' functionals, fit on Train, strength chosen on {select}.\n\n")


def render_table(rows: Sequence[dict]) -> str:
    """Markdown table in the layout of Table 4: one row per (model, setting, split), CCC per emotion, mean, and
    a Seconds column when any row was timed."""
    if not rows:
        return ""
    names = list(rows[0]["ccc"])
    timed = any("seconds" in row for row in rows)
    header = ["Model", "Setting", "Split", *names, "Mean CCC"] + (["Seconds"] if timed else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        values = [f"{row['ccc'][n]:.3f}" for n in names]
        seconds = [f"{row['seconds']:.3g}" if "seconds" in row else ""] if timed else []
        lines.append("| " + " | ".join([row["model"], row["setting"], row["split"], *values,
                                         f"**{row['mean_ccc']:.3f}**", *seconds]) + " |")
    return "\n".join(lines) + "\n"


def write_json(path: Path, payload: dict) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def plot_history(path: Path, history: Sequence[dict], selection: Sequence[dict]) -> None:
    """Training curve (loss, validation CCC per epoch) and validation CCC per adaptation setting."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    epochs = [h["epoch"] for h in history]
    axes[0].plot(epochs, [h["train_loss"] for h in history], label="train loss")
    twin = axes[0].twinx()
    twin.plot(epochs, [h["val_mean_ccc"] for h in history], color="tab:orange", label="val mean CCC")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("train loss")
    twin.set_ylabel("val mean CCC")
    axes[0].set_title("speaker-independent training")
    for mode in sorted({s["mode"] for s in selection}):
        ridge = mode == "ridge"
        entries = sorted((s for s in selection if s["mode"] == mode),
                         key=lambda s: (s["ridge_strength"],) if ridge else (s["steps"], s["learning_rate"]))
        labels = [f"strength\n{s['ridge_strength']:g}" if ridge else f"K={s['steps']}\nlr={s['learning_rate']:g}"
                  for s in entries]
        axes[1].plot(labels, [s["val_mean_ccc"] for s in entries], marker="o", label=mode)
    axes[1].set_title("validation mean CCC after adaptation")
    axes[1].tick_params(axis="x", labelsize=6)
    axes[1].legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def report_data(workdir: str | Path) -> dict:
    """The results a finished `train` wrote in `workdir` (`fewshot_results.json`), as the report renders them."""
    path = Path(workdir) / RESULTS_JSON
    if not path.exists():
        raise DataError(f"{path}: missing; run `exvo-jax fewshot train` with this workdir first")
    return json.loads(path.read_text())


def evaluate(workdirs: Sequence[str | Path]) -> str:
    """One Table 4 from the rows of several finished runs (e.g. H = 64, 128, 256)."""
    return render_table([row for workdir in workdirs for row in report_data(workdir)["table"]])
