"""From a demo run folder to the report's sections: tables, figures (written as PNGs) and audio clips.

`build_report(out, stages, seconds)` reads what each stage left (track results, metrics logs, the
Figure 2 mels) and returns the report as plain data: a list of sections, each a list of blocks
(`{"text"}`, `{"table"}`, `{"figure": {"title", "file"}}`, `{"audio": [...]}`). The Markdown and HTML
renderers walk the same structure, and it is written as JSON as well.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from exvo_jax.data.release import read_release
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.tracks import fewshot, multitask
from exvo_jax.tracks.generate import draw_grid
from exvo_jax.report import figures, paper, tables
from exvo_jax.report.checks import learning_checks
from exvo_jax.report.environment import environment
from exvo_jax.submission.formats import generated_clip_name

FIGURES = "report"  # folder of the PNGs, beside report.md
PLOTTED_SETTINGS = ("no adaptation", "adapted", "episodic", "linear yardstick")  # Table 4 rows in the CCC bars


def _figure(title: str, path: Path, out: Path, caption: str = "") -> dict:
    return {"figure": {"title": title, "file": str(path.relative_to(out)), "caption": caption}}


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _finite(values) -> list[float]:
    return [float(v) if v is not None and math.isfinite(v) else math.nan for v in values]


def multitask_section(out: Path, stages: dict, folder: Path) -> dict:
    results = multitask.report_data(stages["multitask"]["workdir"])
    submission = stages["submissions"]["multitask"].get("scores")
    blocks = [{"table": tables.table2(results, submission, stages["submissions"]["multitask"].get("yardsticks"))}]
    series = {f"Val, mean of {len(results['seeds'])} seeds": [results["mean"][f"{e} CCC"] for e in EMOTIONS]}
    if submission:
        series["Test submission"] = [submission["ccc_per_emotion"][e] for e in EMOTIONS]
    path = figures.grouped_bars(folder / "multitask_ccc.png", EMOTIONS, series, "CCC", "Multitask: CCC per emotion")
    blocks.append(_figure("Multitask: CCC per emotion", path, out))
    return {"id": "multitask", "title": "Multitask track", "blocks": blocks, "results": results}


def adaptation_panels(grid: list[dict]) -> tuple[dict, dict[str, str], dict[str, str]]:
    """One heat map per adaptation mode on that mode's own axes, and each panel's x and y axis labels.

    A gradient mode's panel is steps K (rows) x learning rate (columns); `ridge` takes no steps, so its
    panel is one row over its strengths. Two grid points that would share a cell are a `ValueError`:
    no cell stands for more than one setting.
    """
    panels, xlabels, ylabels = {}, {}, {}
    for mode in dict.fromkeys(g["mode"] for g in grid):
        points = [g for g in grid if g["mode"] == mode]
        if mode == "ridge":  # no steps, no learning rate: one row of strengths
            strengths = sorted({g.get("ridge_strength") or 0.0 for g in points})
            cells = [(0, strengths.index(g.get("ridge_strength") or 0.0)) for g in points]
            rows, columns = ["closed form"], [f"{c:g}" for c in strengths]
            xlabels[mode], ylabels[mode] = "ridge strength", ""
        else:
            steps, rates = sorted({g["steps"] for g in points}), sorted({g["learning_rate"] for g in points})
            cells = [(steps.index(g["steps"]), rates.index(g["learning_rate"])) for g in points]
            rows, columns = [f"K={k}" for k in steps], [f"lr={r:g}" for r in rates]
            xlabels[mode], ylabels[mode] = "learning rate", "adaptation steps K"
        if len(set(cells)) < len(points):
            raise ValueError(f"adaptation grid of mode {mode!r}: several settings fall in one cell ({points})")
        values = np.full((len(rows), len(columns)), np.nan)
        for g, cell in zip(points, cells):
            values[cell] = g["val_mean_ccc"]
        panels[mode] = (values, rows, columns)
    return panels, xlabels, ylabels


def fewshot_section(out: Path, stages: dict, folder: Path) -> dict:
    results = fewshot.report_data(stages["fewshot"]["workdir"])
    blocks = [{"table": tables.table4(results["table"])}]
    shown = [r for r in results["table"] if r["setting"].startswith(PLOTTED_SETTINGS)]
    series = {f"{r['setting']} ({r['split']})": [r["ccc"].get(e, math.nan) for e in EMOTIONS] for r in shown}
    path = figures.grouped_bars(folder / "fewshot_ccc.png", EMOTIONS, series, "CCC", "Few-shot: CCC per emotion")
    blocks.append(_figure("Few-shot: CCC per emotion", path, out))
    speakers = results.get("speakers")
    if speakers:
        path = figures.before_after(folder / "fewshot_speakers.png", [s["before"] for s in speakers],
                                    [s["after"] for s in speakers],
                                    f"{len(speakers)} {results['eval_split']} speakers: CCC of their query clips")
        blocks.append(_figure("Few-shot: per-speaker CCC before vs after adaptation", path, out,
                              "One point per speaker; CCC pooled over its query clips and emotions."))
    panels, xlabels, ylabels = adaptation_panels(results["selection"])
    path = figures.heat_maps(folder / "adaptation_grid.png", panels, xlabels, ylabels)
    blocks.append(_figure(f"Few-shot: adaptation grid ({results['selection_split']} mean CCC)", path, out))
    return {"id": "fewshot", "title": "Few-shot track", "blocks": blocks, "results": results}


def generate_section(out: Path, stages: dict, folder: Path) -> dict:
    band, evaluation = stages.get("band_fd"), stages.get("evaluation")
    blocks = [{"table": tables.table3(band, evaluation)}]
    figure2 = np.load(out / "generate" / "figure2.npz")
    emotions = [str(e) for e in figure2["emotions"]]
    real = dict(zip(emotions, figure2["real"]))
    generated = dict(zip(emotions, figure2["generated"]))
    path = draw_grid(folder / "figure2_mels.png", real, generated, "Real (left) and generated (right) log-mels")
    blocks.append(_figure("Figure 2: real vs generated log-mel spectrograms per emotion", path, out))
    corpus_wavs = Path(stages["corpus"]["path"]) / "wav"
    submission = Path(stages["gan"]["submission"])
    blocks.append({"audio": [{"emotion": e,
                              "real": [str(corpus_wavs / f"{i}.wav") for i in figure2["real_ids"][k]],
                              "generated": [str(submission / e / generated_clip_name(e, j))
                                            for j in range(len(figure2["generated"][k]))]}
                             for k, e in enumerate(emotions)]})
    if evaluation:
        matrix = np.array([[math.nan if v is None else v for v in row] for row in evaluation["fid_matrix"]])
        path = figures.heat_maps(folder / "fid_matrix.png", {"FID, real Train vs real Val clips": (
            matrix, EMOTIONS, EMOTIONS)}, "Val emotion", "Train emotion", cmap="magma_r", fmt="{:.2f}")
        low, high = paper.GENERATE_TRAIN_VAL_FID_RANGE
        blocks.append(_figure("FID matrix between emotions (classifier features)", path, out,
                              f"Train clips of each emotion against Val clips of each: the diagonal is what two real "
                              f"samples of one emotion score, a lower bound for a generator (the paper's diagonal on "
                              f"real data: {low}-{high}). Blank: fewer than 2 clips."))
    if band:
        names = band["emotions"]
        path = figures.heat_maps(folder / "band_fd_matrix.png", {"band-statistics FD": (np.asarray(band["matrix"]),
                                                                                         names, names)},
                                 "real emotion", "generated emotion", cmap="magma_r", fmt="{:.1f}")
        blocks.append(_figure("Frechet distance matrix: generated vs real emotions (band statistics)", path, out,
                              "A generator that separates the emotions has its smallest values on the diagonal."))
    if not evaluation:
        blocks.append({"text": "Classifier-based evaluation (FID classifier, FID matrix, HEEP proxy, S_Gen) is not "
                               "part of this run: those cells are absent, not estimated."})
    return {"id": "generate", "title": "Generate track", "blocks": blocks}


def curves_section(out: Path, stages: dict, folder: Path, mt: dict, fs: dict) -> dict:
    history = mt["history"]
    curves = {"multitask (loss)": {}}
    for i, seed in enumerate(mt["seeds"]):
        for name in ("train_loss", "val_loss"):
            y = _finite(history[name][i])
            curves["multitask (loss)"][f"{name.split('_')[0]} {seed}"] = (list(range(1, len(y) + 1)), y)
    epochs = [h["epoch"] for h in fs["history"]]
    curves["few-shot (train loss)"] = {"train loss": (epochs, [h["train_loss"] for h in fs["history"]])}
    curves["few-shot (validation)"] = {"val mean CCC": (epochs, [h["val_mean_ccc"] for h in fs["history"]])}
    gan = [r for r in _read_jsonl(Path(stages["gan"]["workdir"]) / "metrics.jsonl") if "g_loss" in r]
    curves["GAN (RaHinge loss)"] = {name: ([r["step"] for r in gan], [r[name] for r in gan])
                                    for name in ("g_loss", "d_loss")}
    classifier = stages.get("classifier")
    if classifier:
        history = classifier["history"]
        curves["FID classifier (validation)"] = {"val mean CCC": ([h["epoch"] for h in history],
                                                                  [h["val_mean_ccc"] for h in history])}
    path = figures.training_curves(folder / "training_curves.png", curves,
                                   {"multitask (loss)": "epoch", "few-shot (train loss)": "epoch",
                                    "few-shot (validation)": "epoch", "GAN (RaHinge loss)": "iteration",
                                    "FID classifier (validation)": "epoch"})
    return {"id": "curves", "title": "Training curves",
            "blocks": [_figure("Training curves of every trainer", path, out)]}


def build_report(out: Path, stages: dict, seconds: dict[str, float], size: str) -> dict:
    """The report of the run in `out` (figures written under `out/report/`) as plain data."""
    folder = out / FIGURES
    corpus = stages["corpus"]
    mt = multitask_section(out, stages, folder)
    fs = fewshot_section(out, stages, folder)
    gen = generate_section(out, stages, folder)
    release = read_release(corpus["path"], test_labels=corpus["test_labels"])
    blends = np.stack([c.emotions for c in release.clips if c.labelled])
    emotion_map = figures.emotion_map(folder / "figure1_emotion_map.png", blends, EMOTIONS)
    checks = learning_checks(stages["submissions"]["multitask"].get("scores"),
                             stages["submissions"]["multitask"].get("yardsticks"), fs["results"]["table"],
                             stages.get("band_fd"), stages.get("evaluation"))
    summary = [{"text": f"Size `{size}`; corpus `{corpus['path']}` ({'synthetic' if corpus['synthetic'] else 'given'})"
                        f"; check: {stages['check']['errors']} error(s), {stages['check']['warnings']} warning(s)."},
               {"table": tables.checks_table(checks)}]
    sections = [
        {"id": "summary", "title": "Summary", "blocks": summary},
        {"id": "corpus", "title": "Corpus", "blocks": [
            {"text": f"```\n{corpus['summary']}\n```"},
            _figure("Figure 1: the clips' emotion blends in two dimensions (t-SNE)", emotion_map, out)]},
        *({k: v for k, v in s.items() if k != "results"} for s in (mt, fs, gen)),
        curves_section(out, stages, folder, mt["results"], fs["results"]),
        {"id": "submissions", "title": "Submissions",
         "blocks": [{"table": tables.submissions_table(stages["submissions"])}]},
        {"id": "times", "title": "Stage times", "blocks": [{"table": tables.key_value_table(
            "Wall time per stage", ["Stage", "Seconds"], {k: f"{v:.1f}" for k, v in seconds.items()},
            "As first run; a stage skipped on a rerun keeps its first time.")}]},
        {"id": "environment", "title": "Machine, versions and devices", "blocks": [{"table": tables.key_value_table(
            "Environment", ["", "Version or value"], environment())}]},
    ]
    return {"title": "exvo_jax demo report", "size": size, "checks": checks, "sections": sections}
