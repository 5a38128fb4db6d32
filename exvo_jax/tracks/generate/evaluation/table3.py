"""Table 3 of the ExVo paper: FIDs between emotions of real Train and Val clips, and per-emotion FIDs of generators.

`fid_table(classifier_dir, data_dir, generated={"per-emotion": DIR, "conditional": DIR2}, out_dir=OUT)`:

* the matrix `FID(Train clips of emotion i, Val clips of emotion j)`: its diagonal is what two real
  samples of one emotion score, the lower bound a good generator can reach (the paper's 0.34-3.76);
* for each generation submission folder, its per-emotion FID (with FD-infinity and KID) to the real
  clips of `split`, the share the classifier recognises as their target, HEEP and S_Gen (from a
  ratings CSV per folder where given, else the classifier's proxy, labelled as such);

written as `table3.md`, `table3.json` and the heat map `table3.png` under `out_dir`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from exvo_jax.atomic import atomic_path, write_text
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks.generate.evaluation.features import Classifier, load_classifier
from exvo_jax.tracks.generate.evaluation.generated import score_folder
from exvo_jax.tracks.generate.evaluation.reference import emotion_clips, features_stats, reference_features
from exvo_jax.metrics import frechet_distance_f64

TABLE_MD, TABLE_JSON, TABLE_PNG = "table3.md", "table3.json", "table3.png"
MIN_CLIPS = 2  # a covariance needs two clips


def train_val_matrix(classifier: Classifier, classifier_dir: str | Path, data_dir: str | Path,
                     progress: bool = False) -> np.ndarray:
    """`[10, 10]` FIDs: row i = Train clips of emotion i, column j = Val clips of emotion j.

    An emotion with fewer than 2 clips in a split has no covariance there: its row (Train) or column (Val)
    is NaN, an absent cell (`matrix_cells` writes it as None), never an estimate.
    """
    stats = {}
    for split in ("Train", "Val"):
        usable = [e for e, clips in emotion_clips(data_dir, split).items() if len(clips) >= MIN_CLIPS]
        features = reference_features(classifier, classifier_dir, data_dir, split, usable, progress=progress)
        stats[split] = {e: features_stats(f) for e, f in features.items()}
    rows, columns = stats["Train"], stats["Val"]
    return np.array([[frechet_distance_f64(rows[a].mu, rows[a].sigma, columns[b].mu, columns[b].sigma)
                      if a in rows and b in columns else np.nan for b in EMOTIONS] for a in EMOTIONS])


def matrix_cells(matrix: np.ndarray) -> list[list[float | None]]:
    """The matrix as JSON-ready rows, None where a cell is absent (NaN)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in np.asarray(matrix, np.float64)]


def fid_table(classifier_dir: str | Path, data_dir: str | Path, generated: Mapping[str, str | Path] | None = None,
              out_dir: str | Path | None = None, *, ratings: Mapping[str, str | Path] | None = None,
              split: str = "Train", progress: bool = False) -> dict:
    """Table 3 (see the module docstring); returns what `table3.json` holds, plus `paths` where written."""
    classifier = load_classifier(classifier_dir)
    matrix = train_val_matrix(classifier, classifier_dir, data_dir, progress)
    models = {name: score_folder(classifier_dir, folder, data_dir, split=split,
                                 ratings_csv=(ratings or {}).get(name), progress=progress)
              for name, folder in (generated or {}).items()}
    table = {"classifier_key": classifier.key, "emotions": list(EMOTIONS), "train_val_fid": matrix_cells(matrix),
             "generated_split": split, "generated": models}
    if out_dir is not None:
        out = Path(out_dir)
        table["paths"] = {"markdown": str(out / TABLE_MD), "json": str(out / TABLE_JSON), "plot": str(out / TABLE_PNG)}
        write_text(out / TABLE_MD, render_markdown(table))
        write_text(out / TABLE_JSON, json.dumps(table, indent=2) + "\n")
        plot_heat_map(out / TABLE_PNG, table)
    return table


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(table: dict) -> str:
    emotions = table["emotions"]
    lines = [f"# Table 3: FID in the classifier's feature space (classifier {table['classifier_key'][:16]})", "",
             "## Real clips: Train (rows) vs Val (columns); the diagonal bounds what a generator can reach", "",
             _row(["Train \\ Val", *emotions]), _row(["---"] * (len(emotions) + 1))]
    lines += [_row([e, *("-" if v is None else f"{v:.2f}" for v in values)])
              for e, values in zip(emotions, table["train_val_fid"])]
    models = table["generated"]
    if models:
        lines += ["", f"## Generated clips vs real {table['generated_split']} clips, per emotion", "",
                  _row(["Model", "Measure", *emotions, "Mean"]), _row(["---"] * (len(emotions) + 3))]
        for name, result in models.items():
            measures = {"FID": {e: d["fid"] for e, d in result["distances"].items()},
                        "FD-infinity": {e: d["fd_infinity"] for e, d in result["distances"].items()},
                        "KID": {e: d["kid"] for e, d in result["distances"].items()},
                        "recognised": result["recognised"],
                        "HEEP": {e: v["heep"] for e, v in result["per_emotion"].items()},
                        "S_Gen": {e: v["s_gen"] for e, v in result["per_emotion"].items()}}
            for measure, values in measures.items():
                shown = [v for v in values.values() if v is not None]
                mean = f"{np.mean(shown):.3f}" if shown else "-"
                lines.append(_row([name, measure, *(_cell(values.get(e)) for e in emotions), mean]))
        lines += [""] + [f"{name}: pooled over emotions FID {r['pooled']['fid']:.3f}, FD-infinity "
                         f"{r['pooled']['fd_infinity']:.3f}, KID {r['pooled']['kid']:.4f} +- {r['pooled']['kid_se']:.4f}; "
                         f"HEEP from {r['heep_source']}" for name, r in models.items()]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def plot_heat_map(path: Path, table: dict) -> Path:
    """The Train-vs-Val matrix, and under it one row of per-emotion FIDs per generator, one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    emotions = table["emotions"]
    rows = [np.array([[np.nan if v is None else v for v in row] for row in table["train_val_fid"]], np.float64)]
    labels = [f"Train {e}" for e in emotions]
    for name, result in table["generated"].items():
        rows.append(np.array([[result["distances"].get(e, {}).get("fid", np.nan) for e in emotions]]))
        labels.append(f"generated: {name}")
    values = np.concatenate(rows)
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.35 * len(values)))
    image = ax.imshow(values, cmap="viridis_r", aspect="auto")
    ax.set_xticks(range(len(emotions)), [f"{e}" for e in emotions], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axhline(len(emotions) - 0.5, color="white", linewidth=2)
    ax.set_xlabel(f"real clips (Val for the matrix, {table['generated_split']} for generators)", fontsize=8)
    fig.colorbar(image, ax=ax, label="FID")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
