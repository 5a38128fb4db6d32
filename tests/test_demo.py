"""The main job end to end (tiny config): corpus, check, both tracks, Test submissions and the report."""

from __future__ import annotations

import json

from exvo_jax.cli import main
from exvo_jax.data.release import read_release
from exvo_jax.submission import validate_csv


def test_tiny_demo_writes_a_report_with_scored_submissions(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--config", "experiments/demo.py:tiny", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert printed == (out / "report.md").read_text() + "\n" and printed.startswith("# exvo_jax demo report")
    assert report["check"] == "0 error(s), 0 warning(s)"

    corpus = read_release(out / "corpus")
    for track in ("multitask", "fewshot"):
        submission = report[track]["submission"]
        assert not validate_csv(submission, corpus, "Test").errors, track
        assert -1.0 <= report[track]["test"]["ccc"] <= 1.0
    assert set(report["multitask"]["test"]) >= {"ccc", "ccc_per_emotion", "uar", "mae", "s_mtl"}
    settings = [row["setting"] for row in report["fewshot"]["table"]]
    assert settings[0] == "no adaptation" and any(s.startswith("adapted") for s in settings)
    assert "## Multitask track" in printed and "## Few-shot track" in printed
