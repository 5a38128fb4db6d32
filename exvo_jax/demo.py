"""The main job: synthetic corpus -> check -> multitask and few-shot tracks -> Test submissions -> report.

Each stage leaves its outputs under the run folder, so an interrupted demo resumes: the corpus is
reused, and the tracks resume from their own orbax checkpoints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import ml_collections

from exvo_jax.atomic import write_text
from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import DATA_INFO
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.submission import FEWSHOT, MULTITASK, score_submission
from exvo_jax.synth import format_summary, write_corpus
from exvo_jax.tracks import fewshot, multitask
from exvo_jax.tracks.fewshot.predict import predict_split
from exvo_jax.tracks.multitask.predict import predict_release

REPORT_MD = "report.md"
REPORT_JSON = "report.json"


def _scores_table(rows: dict[str, dict]) -> str:
    """Markdown rows `name | mean CCC | UAR | MAE | S_MTL | per-emotion CCC` of submission scores."""
    header = "| | mean CCC | UAR | MAE | S_MTL | " + " | ".join(EMOTIONS) + " |"
    lines = [header, "|" + "---|" * (5 + len(EMOTIONS))]
    for name, s in rows.items():
        cells = [f"{s['ccc']:.3f}"] + [f"{s[k]:.3f}" if k in s else "" for k in ("uar", "mae", "s_mtl")]
        cells += [f"{s['ccc_per_emotion'][e]:.3f}" for e in EMOTIONS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_report(report: dict) -> str:
    mt, fs = report["multitask"], report["fewshot"]
    return "\n\n".join([
        "# exvo_jax demo report",
        f"Synthetic corpus `{report['corpus']['path']}`:\n\n```\n{report['corpus']['summary']}\n```",
        f"Corpus check: {report['check']}",
        "## Multitask track (validation, per seed and mean +/- std)\n\n" + mt["validation_markdown"],
        "## Multitask track (Test submission, scored with test_labels.csv)\n\n"
        + _scores_table({"model (best seed)": mt["test"]}) + f"\n\nSubmission: `{mt['submission']}`",
        "## Few-shot track (Table 4 layout)\n\n" + fs["table_markdown"],
        "## Few-shot track (Test submission, scored with test_labels.csv)\n\n"
        + _scores_table({"adapted per speaker": fs["test"]}) + f"\n\nSubmission: `{fs['submission']}`",
        "Stage times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in report["seconds"].items()),
    ]) + "\n"


def run_demo(config: ml_collections.ConfigDict, out_dir: str | Path, progress: bool = True) -> dict:
    """Runs every stage into `out_dir` and writes report.md and report.json there; returns the report."""
    out = Path(out_dir)
    corpus_dir, submissions = out / "corpus", out / "submissions"
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    if not (corpus_dir / DATA_INFO).exists():
        summary = write_corpus(corpus_dir, **config.corpus.to_dict(), progress=progress)
        summary_text = format_summary(summary)
    else:
        summary_text = f"reused the corpus already in {corpus_dir}"
    check = check_release(corpus_dir, progress=progress)
    if not check.ok:
        raise DataError(f"{corpus_dir}: the corpus check failed:\n{check.format()}")
    seconds["corpus"] = time.perf_counter() - start

    start = time.perf_counter()
    mt_config = ml_collections.ConfigDict(config.multitask.to_dict())
    mt_config.data_dir = str(corpus_dir)
    mt_results = multitask.train_and_evaluate(mt_config, out / "multitask", progress=progress)
    mt_submission = predict_release(out / "multitask", corpus_dir, submissions, team=config.team)["Test"]
    seconds["multitask"] = time.perf_counter() - start

    start = time.perf_counter()
    fs_config = ml_collections.ConfigDict(config.fewshot.to_dict())
    fs_config.data_dir = str(corpus_dir)
    fs_results = fewshot.train_and_evaluate(fs_config, out / "fewshot", progress=progress)
    fs_submission = predict_split(out / "fewshot", corpus_dir, submissions, split="Test", team=config.team,
                                  progress=progress)
    seconds["fewshot"] = time.perf_counter() - start

    report = {
        "corpus": {"path": str(corpus_dir), "summary": summary_text},
        "check": f"{len(check.errors)} error(s), {len(check.warnings)} warning(s)",
        "multitask": {
            "validation_markdown": multitask.render_markdown(mt_results),
            "validation": {"mean": mt_results["mean"], "std": mt_results["std"], "trivial": mt_results["trivial"]},
            "test": score_submission(mt_submission, corpus_dir, "Test", MULTITASK),
            "submission": str(mt_submission),
        },
        "fewshot": {
            "table_markdown": fewshot.render_table(fs_results["table"]),
            "table": fs_results["table"],
            "test": score_submission(fs_submission, corpus_dir, "Test", FEWSHOT),
            "submission": str(fs_submission),
        },
        "seconds": seconds,
    }
    write_text(out / REPORT_JSON, json.dumps(report, indent=2) + "\n")
    write_text(out / REPORT_MD, render_report(report))
    return report
