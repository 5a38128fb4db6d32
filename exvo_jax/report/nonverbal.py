"""The report of a demo run on a nonverbal-vocalisation corpus: multitask (type, sex, age) and few-shot tables.

The corpus has no emotion intensities, so the report has no Figure 1, no Tables 3 and 4 and no generate
track: its generate section says why instead. The multitask table sets each score beside the trivial
predictor (Train majority class, Train mean age) and the linear yardstick; the few-shot table sets the
adapted scores beside the unadapted ones on the same query clips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from exvo_jax.report import figures, tables
from exvo_jax.tracks import multitask
from exvo_jax.report.environment import environment

FIGURES = "report"
MULTITASK_COLUMNS = ("Type UAR", "Sex UAR", "Age MAE")
FEWSHOT_COLUMNS = (("type_uar", "Type UAR"), ("type_accuracy", "Type accuracy"), ("age_mae", "Age MAE (years)"))
GENERATE_NOT_APPLICABLE = ("Not applicable: the generate track (FID classifier, conditional GAN, its evaluation and "
                           "submission wavs) conditions on and scores emotion intensities, which the "
                           "nonverbal-vocalisation corpus does not label. Those stages were not run.")


def _figure(title: str, path: Path, out: Path, caption: str = "") -> dict:
    return {"figure": {"title": title, "file": str(path.relative_to(out)), "caption": caption}}


def multitask_table(results: Mapping) -> dict:
    """Val and Test (mean ± std over seeds), the exported predictor on Test, the trivial predictor and the
    linear yardstick, in Type UAR, Sex UAR and Age MAE."""
    seeds = len(results["seeds"])
    rows = [["this run", f"Val, {seeds} seeds", *(tables.mean_std(results["mean"], results["std"], k)
                                                  for k in MULTITASK_COLUMNS)]]
    test = results.get("test")
    if test:
        rows.append(["this run", f"Test, {seeds} seeds",
                     *(tables.mean_std(test["mean"], test["std"], k) for k in MULTITASK_COLUMNS)])
    exported = results.get("exported", {})
    if "test" in exported:
        shrunk = "".join(f", {task} shrunk" for task in exported.get("shrinkage", {}))
        rows.append(["this run", f"Test, predictor of seeds {', '.join(map(str, exported['seeds']))}{shrunk}",
                     *(exported["test"][k] for k in MULTITASK_COLUMNS)])
    rows.append(["trivial predictor", "Val", *(results["trivial"][k] for k in MULTITASK_COLUMNS)])
    if test:
        rows.append(["trivial predictor", "Test", *(test["trivial"][k] for k in MULTITASK_COLUMNS)])
    for split, label in (("val", "Val (chosen on it)"), ("test", "Test")):
        if split in results.get("yardstick", {}):
            rows.append(["linear yardstick", label, *(results["yardstick"][split][k] for k in MULTITASK_COLUMNS)])
    return tables.table("Multitask track: vocalisation type, sex and age", ["Model", "Split", *MULTITASK_COLUMNS],
                        rows, f"{results['feature_set']} functionals; speaker-disjoint 70/15/15 split. Trivial: the "
                              "Train majority class and the Train mean age. Linear yardstick: logistic / ridge "
                              "regression on the same features, regularisation chosen on Val.")


def fewshot_table(fewshot: Mapping) -> dict:
    """Pooled query scores of the test speakers without and with adaptation, beside the trivial predictor."""
    scores = fewshot["scores"]
    labels = {"no adaptation": "no adaptation", "adapted": f"adapted ({fewshot['adapted']})",
              "trivial": "Train majority type, Train mean age"}
    rows = [[labels[name], fewshot["query_clips"], *(scores[name][key] for key, _ in FEWSHOT_COLUMNS)]
            for name in labels]
    return tables.table("Few-shot track: per-speaker adaptation, before vs after",
                        ["Setting", "Query clips", *(title for _, title in FEWSHOT_COLUMNS)], rows,
                        f"Test speakers with more than {fewshot['shots']} clips: their first {fewshot['shots']} "
                        f"clips adapt the network (trained on {fewshot['train_clips']} Train clips, best epoch on "
                        "the validation speakers), the rest are scored. The head predicts 16 type scores and "
                        "age / 50. A speaker's support clips are mostly of other types than its query clips: they "
                        "tell its age, not the query clips' types.")


def nonverbal_checks(results: Mapping, fewshot: Mapping) -> list[dict]:
    """Multitask Test scores against the trivial predictor's; adapted few-shot age error against unadapted."""
    checks = []
    test = results.get("exported", {}).get("test")
    if test:
        trivial = results["test"]["trivial"]
        for key, what, better in (("Type UAR", "Test type UAR above the majority class's", test["Type UAR"] >
                                   trivial["Type UAR"]),
                                  ("Sex UAR", "Test sex UAR above the majority class's", test["Sex UAR"] >
                                   trivial["Sex UAR"]),
                                  ("Age MAE", "Test age MAE below the Train-mean predictor's", test["Age MAE"] <
                                   trivial["Age MAE"])):
            checks.append({"track": "multitask", "what": what, "value": float(test[key]),
                           "yardstick": float(trivial[key]), "passed": bool(better)})
    before, after = fewshot["scores"]["no adaptation"]["age_mae"], fewshot["scores"]["adapted"]["age_mae"]
    checks.append({"track": "few-shot", "what": "query age MAE lower after adaptation", "value": float(after),
                   "yardstick": float(before), "passed": bool(after < before)})
    return checks


def curves(out: Path, folder: Path, results: Mapping, fewshot: Mapping) -> dict:
    history = results["history"]
    lines = {}
    for i, seed in enumerate(results["seeds"]):
        for name in ("train_loss", "val_loss"):
            y = [math.nan if v is None else float(v) for v in history[name][i]]
            lines[f"{name.split('_')[0]} {seed}"] = (list(range(1, len(y) + 1)), y)
    epochs = [h["epoch"] for h in fewshot["history"]]
    path = figures.training_curves(folder / "training_curves.png", {
        "multitask (loss)": lines,
        "few-shot (train loss)": {"train loss": (epochs, [h["train_loss"] for h in fewshot["history"]])},
        "few-shot (validation)": {"val mean CCC": (epochs, [h["val_mean_ccc"] for h in fewshot["history"]])}},
        {"multitask (loss)": "epoch", "few-shot (train loss)": "epoch", "few-shot (validation)": "epoch"})
    return {"id": "curves", "title": "Training curves",
            "blocks": [_figure("Training curves of every trainer", path, out)]}


def build_nonverbal_report(out: Path, stages: Mapping, seconds: Mapping[str, float], size: str) -> dict:
    """The report of a nonverbal-vocalisation run in `out` (figures under `out/report/`) as plain data."""
    folder = out / FIGURES
    corpus, check, fewshot = stages["corpus"], stages["check"], stages["fewshot"]
    results = multitask.report_data(stages["multitask"]["workdir"])
    checks = nonverbal_checks(results, fewshot)
    speakers = fewshot["speakers"]
    per_speaker = figures.before_after(
        folder / "fewshot_speakers.png", [s["before_age_mae"] for s in speakers],
        [s["after_age_mae"] for s in speakers], f"{len(speakers)} test speakers: age MAE of their query clips",
        measure="age MAE (years)", higher_is_better=False)
    split = tables.table("Speaker-disjoint split", ["Part", "Clips", "Speakers"],
                         [[name, c["clips"], c["speakers"]] for name, c in check["split"].items()])
    sections = [
        {"id": "summary", "title": "Summary", "blocks": [
            {"text": f"Size `{size}`; nonverbal-vocalisation corpus `{corpus['path']}` (given); check: "
                     f"{check['errors']} error(s), {check['warnings']} warning(s). Tracks: multitask (type, age, "
                     "sex) and few-shot adaptation; generation: not applicable (no emotion intensities)."},
            {"table": tables.checks_table(checks)}]},
        {"id": "corpus", "title": "Corpus", "blocks": [{"text": f"```\n{corpus['summary']}\n```"}, {"table": split}]},
        {"id": "multitask", "title": "Multitask track", "blocks": [{"table": multitask_table(results)}]},
        {"id": "fewshot", "title": "Few-shot track", "blocks": [
            {"table": fewshot_table(fewshot)},
            _figure("Few-shot: per-speaker age MAE before vs after adaptation", per_speaker, out,
                    "One point per test speaker; below the diagonal: adaptation lowered its age error.")]},
        {"id": "generate", "title": "Generate track", "blocks": [{"text": GENERATE_NOT_APPLICABLE}]},
        curves(out, folder, results, fewshot),
        {"id": "times", "title": "Stage times", "blocks": [{"table": tables.key_value_table(
            "Wall time per stage", ["Stage", "Seconds"], {k: f"{v:.1f}" for k, v in seconds.items()},
            "As first run; a stage skipped on a rerun keeps its first time.")}]},
        {"id": "environment", "title": "Machine, versions and devices", "blocks": [{"table": tables.key_value_table(
            "Environment", ["", "Version or value"], environment())}]},
    ]
    return {"title": "exvo_jax demo report (nonverbal-vocalisation corpus)", "size": size, "checks": checks,
            "sections": sections}
