"""The demo's submission stage: the three artefacts validated as the competition would, the CSVs scored.

The multitask CSV is scored on Test where the corpus has Test labels (`test_labels.csv`, as the synthetic
corpus does), beside the trivial yardsticks: the Train-mean age's MAE and chance UAR. The few-shot CSV
is scored on its split (Test with labels, else Val).
"""

from __future__ import annotations

import numpy as np

from exvo_jax.data.release import label_arrays, read_release
from exvo_jax.data.schema import COUNTRIES
from exvo_jax.submission import FEWSHOT, MULTITASK, score_submission, validate_csv, validate_generation_folder


def _validated(report) -> dict:
    return {"path": str(report.path), "valid": report.ok,
            "problems": [str(p) for p in report.errors][:20]}


def submissions_stage(corpus: dict, multitask: dict, fewshot: dict, generation: dict, clips_per_emotion: int) -> dict:
    """Validation (and, with Test labels, scores) of the multitask CSV, the few-shot CSV and the wav folder."""
    release = read_release(corpus["path"], test_labels=corpus["test_labels"])
    out = {
        "multitask": _validated(validate_csv(multitask["submission"], release, "Test")),
        "fewshot": _validated(validate_csv(fewshot["submission"], release, fewshot["split"])),
        "generate": {**_validated(validate_generation_folder(generation["submission"], clips_per_emotion)),
                     "clips_per_emotion": clips_per_emotion},
    }
    out["fewshot"]["scores"] = score_submission(out["fewshot"]["path"], corpus["path"], fewshot["split"], FEWSHOT)
    if corpus["test_labels"]:
        out["multitask"]["scores"] = score_submission(out["multitask"]["path"], corpus["path"], "Test", MULTITASK)
        train_age = label_arrays(release.split("Train"))["age"]
        test_age = label_arrays(release.split("Test"))["age"]
        out["multitask"]["yardsticks"] = {"mae": float(np.mean(np.abs(test_age - train_age.mean()))),
                                          "uar": 1.0 / len(COUNTRIES), "ccc": 0.0}
    return out
