"""The report's tables as plain data (`{"title", "note", "columns", "rows"}`), in the paper's layouts.

One table value renders as Markdown (`exvo_jax.report.markdown`), HTML (`exvo_jax.report.html`) and
JSON alike. Cells are numbers, strings, or None (absent, shown as a dash). The paper's baseline numbers
sit in rows of their own, marked as the paper's, on real data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.report import paper

MULTITASK_COLUMNS = ("Mean CCC", "Country UAR", "Age MAE", "S_MTL")


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence], note: str = "") -> dict:
    return {"title": title, "note": note, "columns": list(columns), "rows": [list(r) for r in rows]}


def mean_std(mean: Mapping[str, float], std: Mapping[str, float], key: str) -> str:
    return f"{mean[key]:.3f} ± {std[key]:.3f}"


def table2(results: Mapping, submission: Mapping | None, yardsticks: Mapping | None) -> dict:
    """Multitask (Table 2 layout): one row per (features, split), mean ± std over seeds, beside the paper."""
    name, seeds = results["feature_set"], len(results["seeds"])
    rows = [[f"{name} (this run)", f"Val, {seeds} seeds", *(mean_std(results["mean"], results["std"], k)
                                                           for k in MULTITASK_COLUMNS)]]
    if "test" in results:
        test = results["test"]
        rows.append([f"{name} (this run)", f"Test, {seeds} seeds",
                     *(mean_std(test["mean"], test["std"], k) for k in MULTITASK_COLUMNS)])
    if submission:
        members = results.get("exported", {}).get("seeds", [results["best_seed"]])
        shrunk = "".join(f", {task} shrunk" for task in results.get("exported", {}).get("shrinkage", {}))
        label = f"mean of seeds {', '.join(map(str, members))}" if len(members) > 1 else f"seed {members[0]}"
        rows.append([f"{name} (this run)", f"Test submission, {label}{shrunk}", submission["ccc"],
                     submission["uar"], submission["mae"], submission["s_mtl"]])
    rows.append(["trivial predictor", "Val", *(results["trivial"].get(k) for k in MULTITASK_COLUMNS)])
    for split, label in (("val", "Val (chosen on it)"), ("test", "Test")):
        if split in results.get("yardstick", {}):
            rows.append(["linear yardstick", label, *(results["yardstick"][split].get(k) for k in MULTITASK_COLUMNS)])
    if yardsticks:
        rows.append(["Train-mean age, chance UAR", "Test", yardsticks["ccc"], yardsticks["uar"], yardsticks["mae"],
                     None])
    for features, scores in paper.MULTITASK_TEST.items():
        rows.append([f"{features} (paper, real data)", "Test", None, None, None, scores["S_MTL"]])
    return table("Table 2: multitask track", ["Features", "Split", *MULTITASK_COLUMNS], rows,
                 "Population CCC. The paper's numbers come from the real HUME-VB release and the paper-sized "
                 "model; this run's from its own corpus and config.")


def table3(band: Mapping | None, evaluation: Mapping | None) -> dict:
    """Generate (Table 3 layout): per emotion, Frechet distances, HEEP proxy and S_Gen, beside the paper."""
    evaluation = evaluation or {}
    heep = "HEEP" + (f" ({evaluation['heep_source']})" if evaluation.get("heep_source") else "")
    columns = ["Emotion", "FID", "FD-infinity", "KID", "recognised", heep, "S_Gen", "FID, untrained G",
               "band-stats FD", "band-stats FD, untrained G"]
    keys = ("fid", "fd_infinity", "kid", "recognised", "heep", "s_gen", "fid_untrained")
    rows = []
    for emotion in EMOTIONS:
        cells = [evaluation.get(k, {}).get(emotion) for k in keys]
        cells += [band["trained"].get(emotion), band["untrained"].get(emotion)] if band else [None, None]
        rows.append([emotion, *cells])
    if evaluation:
        means = [float(np.mean(list(evaluation[k].values()))) if evaluation[k] else None for k in keys]
        rows.append(["mean (this run)", *means[:5], evaluation["mean_s_gen"], means[6], None, None])
    low, high = paper.GENERATE_FID_RANGE
    rows.append(["all (paper, real data)", f"{low}-{high}", None, None, None, None, paper.GENERATE_S_GEN, None, None,
                 None])
    note = ("FID, FD-infinity and KID in the feature space of the trained emotion classifier (top LSTM output at the "
            "last frame) against each emotion's real Train clips of intensity 1.0; recognised: share of the "
            "generated clips whose strongest classifier output is their emotion; S_Gen = (1/FID + HEEP) / 2. The "
            "band-statistics FD needs no trained network (per-band mean and spread of the log-mels). ")
    if evaluation:
        note += (f"{evaluation['generated_per_emotion']} generated clips per emotion; emotions with fewer than 3 real "
                 "clips are not scored (absent).")
    else:
        note += ("This run has no classifier-based evaluation: its FID, HEEP and S_Gen cells are absent, "
                 "not estimated.")
    return table("Table 3: generate track", columns, rows, note)


def table4(rows: Sequence[Mapping]) -> dict:
    """Few-shot (Table 4 layout): per-emotion CCC and mean per (model, setting, split), beside the paper."""
    names = list(rows[0]["ccc"]) if rows else list(EMOTIONS)
    body = [[r["model"], r["setting"], r["split"], *(r["ccc"][n] for n in names), r["mean_ccc"]] for r in rows]
    for model, scores in paper.FEWSHOT_TEST.items():
        body.append([f"{model} (paper, real data)", "adapted", "Test", *([None] * len(names)), scores["mean_ccc"]])
    return table("Table 4: few-shot track", ["Model", "Setting", "Split", *names, "Mean CCC"], body,
                 "Population CCC of the predictions as submitted, on the query clips of speakers that made none "
                 "of the choices.")


def checks_table(checks: Sequence[Mapping]) -> dict:
    """Did every track learn: each check's value, its yardstick and the outcome."""
    rows = [[c["track"], c["what"], c["value"], c["yardstick"], "yes" if c["passed"] else "NO"] for c in checks]
    return table("Learning checks", ["Track", "Check", "Value", "Yardstick", "Passed"], rows,
                 "Held-out data against a trivial yardstick; `small` is sized to pass every one.")


def submissions_table(submissions: Mapping) -> dict:
    rows = []
    for name, entry in submissions.items():
        scores = entry.get("scores", {})
        rows.append([name, entry["path"], "valid" if entry["valid"] else "; ".join(entry["problems"][:3]),
                     scores.get("ccc"), scores.get("s_mtl")])
    return table("Submission artefacts", ["Track", "Artefact", "Validation", "mean CCC", "S_MTL"], rows)


def key_value_table(title: str, columns: Sequence[str], items: Mapping, note: str = "") -> dict:
    return table(title, columns, [[k, v] for k, v in items.items()], note)


def cell_text(value) -> str:
    """How a cell prints: a dash where absent, three decimals for a number, else the text."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
