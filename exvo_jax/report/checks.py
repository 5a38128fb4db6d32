"""Whether each track learnt: held-out scores against trivial yardsticks, the thresholds `small` is sized for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MULTITASK_MIN_CCC = 0.3
FEWSHOT_MIN_GAIN = 0.05
GENERATE_MAX_RATIO = 0.5


def _check(track: str, what: str, value: float, yardstick: float, passed: bool) -> dict:
    return {"track": track, "what": what, "value": float(value), "yardstick": float(yardstick), "passed": bool(passed)}


def learning_checks(multitask: Mapping | None, yardsticks: Mapping | None, fewshot_rows: Sequence[Mapping],
                    band: Mapping | None, evaluation: Mapping | None) -> list[dict]:
    """Checks that can be made from what the run measured; a track without held-out labels has none."""
    checks = []
    if multitask and yardsticks:
        checks += [
            _check("multitask", "Test mean CCC >= 0.3", multitask["ccc"], MULTITASK_MIN_CCC,
                   multitask["ccc"] >= MULTITASK_MIN_CCC),
            _check("multitask", "Test country UAR above chance", multitask["uar"], yardsticks["uar"],
                   multitask["uar"] > yardsticks["uar"]),
            _check("multitask", "Test age MAE below the Train-mean predictor's", multitask["mae"], yardsticks["mae"],
                   multitask["mae"] < yardsticks["mae"]),
        ]
    unadapted = [r for r in fewshot_rows if r["setting"] == "no adaptation"]
    adapted = [r for r in fewshot_rows if r["setting"].startswith("adapted")]
    if unadapted and adapted:
        gain = adapted[0]["mean_ccc"] - unadapted[0]["mean_ccc"]
        checks.append(_check("few-shot", f"{adapted[0]['split']} mean CCC gain from adaptation >= 0.05", gain,
                             FEWSHOT_MIN_GAIN, gain >= FEWSHOT_MIN_GAIN))
    if evaluation and evaluation.get("fid_untrained"):
        trained = np.mean(list(evaluation["fid"].values()))
        untrained = np.mean(list(evaluation["fid_untrained"].values()))
        checks.append(_check("generate", "mean FID at most half the untrained generator's", trained,
                             GENERATE_MAX_RATIO * untrained, trained <= GENERATE_MAX_RATIO * untrained))
    if band:
        trained, untrained = np.mean(list(band["trained"].values())), np.mean(list(band["untrained"].values()))
        checks.append(_check("generate", "mean band-statistics FD at most half the untrained generator's", trained,
                             GENERATE_MAX_RATIO * untrained, trained <= GENERATE_MAX_RATIO * untrained))
    return checks
