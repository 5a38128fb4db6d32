"""The main job on a nonverbal-vocalisation corpus (`--size tiny --data <corpus>`): multitask and few-shot end
to end, a report with their numbers and generation marked not applicable, and a clear refusal of bad audio."""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest

from exvo_jax.cli import main
from exvo_jax.demo import NONVERBAL_STAGES
from exvo_jax.demo.stages import LEDGER
from tests.support.demo_output import blocks, progress_bars
from tests.support.nonverbal_layout import write_nonverbal_layout

SECTIONS = ["summary", "corpus", "multitask", "fewshot", "generate", "curves", "times", "environment"]


@pytest.fixture(scope="module")
def nonverbal_demo(tmp_path_factory) -> tuple[Path, str]:
    """One tiny demo run on a synthesised 20-speaker corpus, with --no-progress: (run folder, what it printed)."""
    root = tmp_path_factory.mktemp("nonverbal_demo")
    corpus = write_nonverbal_layout(root / "corpus")
    out, console = root / "demo", io.StringIO()
    with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
        code = main(["demo", "--size", "tiny", "--data", str(corpus), "--out", str(out), "--no-progress"])
    assert code == 0, console.getvalue()[-5000:]
    return out, console.getvalue()


def table(report: dict, title: str) -> dict:
    return next(t for t in blocks(report, "table") if t["title"].startswith(title))


def finite(cells) -> bool:
    return all(isinstance(c, (int, float)) and math.isfinite(c) for c in cells)


def mean_of(cell: str) -> float:
    return float(cell.split(" ± ")[0])


@pytest.mark.slow
def test_report_has_the_multitask_and_fewshot_numbers_and_no_generation(nonverbal_demo):
    out, console = nonverbal_demo
    assert list(json.loads((out / LEDGER).read_text())["stages"]) == list(NONVERBAL_STAGES)
    report = json.loads((out / "report.json").read_text())
    assert [s["id"] for s in report["sections"]] == SECTIONS

    multitask = table(report, "Multitask track")
    assert multitask["columns"] == ["Model", "Split", "Type UAR", "Sex UAR", "Age MAE"]
    rows = {(r[0], r[1]): r[2:] for r in multitask["rows"]}
    assert list(rows)[:3] == [("this run", "Val, 2 seeds"), ("this run", "Test, 2 seeds"),
                              ("this run", "Test, predictor of seeds 101, 102, age shrunk")]
    test = [mean_of(c) for c in rows[("this run", "Test, 2 seeds")]]
    assert all(math.isfinite(v) for v in test) and 0.0 <= test[0] <= 1.0 and test[2] > 0
    for row in [("this run", "Test, predictor of seeds 101, 102, age shrunk"), ("trivial predictor", "Test"),
                ("linear yardstick", "Test")]:
        assert finite(rows[row]), row

    fewshot = table(report, "Few-shot track")
    settings = [r[0] for r in fewshot["rows"]]
    assert settings[0] == "no adaptation" and settings[1].startswith("adapted (bias_head, K=20")
    for row in fewshot["rows"]:
        assert row[1] == 9 and finite(row[2:]), row  # 3 test speakers x (5 clips - 2 support)
    before, after = fewshot["rows"][0][4], fewshot["rows"][1][4]
    assert before != after  # the adapted network predicts differently
    speakers = [f for f in blocks(report, "figure") if f["title"].startswith("Few-shot: per-speaker age MAE")]
    assert len(speakers) == 1 and (out / speakers[0]["file"]).stat().st_size > 1000

    generate = next(s for s in report["sections"] if s["id"] == "generate")
    assert len(generate["blocks"]) == 1 and "Not applicable" in generate["blocks"][0]["text"]
    assert "emotion intensities" in generate["blocks"][0]["text"]
    assert [c["track"] for c in report["checks"]] == ["multitask"] * 3 + ["few-shot"]

    markdown = (out / "report.md").read_text()
    assert "## Generate track\n\nNot applicable" in markdown and "**Multitask track" in markdown
    page = (out / "report.html").read_text()
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == len(blocks(report, "figure")) == 2
    assert not (out / "submissions").exists() and not (out / "generate").exists()
    assert console.count("done in") == len(NONVERBAL_STAGES) and not progress_bars(console), progress_bars(console)


@pytest.mark.slow
def test_rerun_skips_every_finished_stage(nonverbal_demo, capsys):
    out, _ = nonverbal_demo
    before = (out / LEDGER).read_text()
    assert main(["demo", "--size", "tiny", "--data", str(out.parent / "corpus"), "--out", str(out),
                 "--no-progress"]) == 0
    assert capsys.readouterr().err.count("skipped") == len(NONVERBAL_STAGES)
    assert (out / LEDGER).read_text() == before


def test_bad_audio_stops_the_check_naming_every_file(tmp_path, capsys):
    corpus = write_nonverbal_layout(tmp_path / "corpus")
    truncated, garbage = sorted(corpus.glob("*/*.wav"))[:2]
    truncated.write_bytes(truncated.read_bytes()[:2000])
    garbage.write_bytes(b"not audio at all")
    assert main(["demo", "--size", "tiny", "--data", str(corpus), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "[2/5] check: running" in err and "corpus check failed" in err and "2 error(s)" in err
    assert f"{truncated}: truncated file" in err and f"{garbage}: " in err
    assert "[3/5]" not in err
