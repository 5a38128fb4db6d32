"""The main job end to end (`--size tiny --data <release>`): every stage, the three artefacts, a report with
every section, skipping finished stages on a rerun and redoing unfinished ones; without `--data` the corpus
stage writes the same synthetic release itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from exvo_jax.cli import main
from exvo_jax.data.release import read_release
from exvo_jax.data.nonverbal import METADATA_FILE
from exvo_jax.demo import STAGES
from exvo_jax.demo.corpus import corpus_stage
from exvo_jax.demo.stages import LEDGER
from exvo_jax.submission import validate_csv, validate_generation_folder
from experiments.demo import get_config
from tests.support.demo_output import blocks, progress_bars
from tests.support.paths import REPO

pytestmark = pytest.mark.xdist_group("demo")

SECTIONS = ["summary", "corpus", "multitask", "fewshot", "generate", "curves", "submissions", "times", "environment"]


@pytest.mark.slow
def test_tiny_demo_report_has_every_section(tiny_demo):
    report = json.loads((tiny_demo / "report.json").read_text())
    assert [s["id"] for s in report["sections"]] == SECTIONS
    titles = [t["title"] for t in blocks(report, "table")]
    for title in ("Table 2", "Table 3", "Table 4", "Learning checks", "Submission artefacts", "Wall time per stage"):
        assert any(t.startswith(title) for t in titles), title
    figures = [f["title"] for f in blocks(report, "figure")]
    for title in ("Figure 1", "Figure 2", "Training curves", "Multitask: CCC per emotion",
                  "Few-shot: per-speaker CCC before vs after", "Few-shot: adaptation grid",
                  "FID matrix between emotions", "Frechet distance matrix"):
        assert any(t.startswith(title) for t in figures), title
    for figure in blocks(report, "figure"):
        assert (tiny_demo / figure["file"]).stat().st_size > 1000, figure["file"]
    audio = blocks(report, "audio")[0]
    assert len(audio) >= 5 and all(row["real"] and row["generated"] for row in audio)

    markdown = (tiny_demo / "report.md").read_text()
    for section in report["sections"]:
        assert f"## {section['title']}" in markdown
    for title in titles:
        assert f"**{title}**" in markdown

    # The paper's numbers appear, marked as the paper's; emotions too rare to score stay absent, never made up.
    table3 = next(t for t in blocks(report, "table") if t["title"].startswith("Table 3"))
    assert table3["rows"][-1][0] == "all (paper, real data)" and table3["rows"][-1][6] == 0.174
    ledger = json.loads((tiny_demo / LEDGER).read_text())
    scored = ledger["stages"]["gan_evaluation"]["result"]["evaluation"]["emotions"]
    assert len(scored) >= 5
    for row in table3["rows"][:10]:
        fid, s_gen = row[1], row[6]
        assert (fid > 0 and s_gen is not None) if row[0] in scored else (fid is None and s_gen is None), row
    table4 = next(t for t in blocks(report, "table") if t["title"].startswith("Table 4"))
    assert table4["rows"][-1][0] == "H=256 (paper, real data)" and table4["rows"][-1][-1] == 0.444
    table2 = next(t for t in blocks(report, "table") if t["title"].startswith("Table 2"))
    assert "±" in table2["rows"][0][2]  # multi-seed mean ± std
    assert [row[1] for row in table2["rows"] if row[0] == "linear yardstick"] == ["Val (chosen on it)", "Test"]


@pytest.mark.slow
def test_tiny_demo_artefacts_are_valid_and_scored(tiny_demo, synthetic_corpus):
    ledger = json.loads((tiny_demo / LEDGER).read_text())
    assert list(ledger["stages"]) == list(STAGES)
    assert ledger["stages"]["corpus"]["result"]["path"] == str(synthetic_corpus.resolve())
    assert not (tiny_demo / "corpus").exists()
    submissions = ledger["stages"]["submissions"]["result"]
    corpus = read_release(synthetic_corpus)
    for track in ("multitask", "fewshot"):
        assert not validate_csv(submissions[track]["path"], corpus, "Test").errors, track
        assert -1.0 <= submissions[track]["scores"]["ccc"] <= 1.0
    assert validate_generation_folder(submissions["generate"]["path"], submissions["generate"]["clips_per_emotion"]).ok
    assert set(submissions["multitask"]["scores"]) >= {"ccc", "ccc_per_emotion", "uar", "mae", "s_mtl"}
    # The GAN learnt something even at this size: far nearer the real clips than its untrained generator.
    band = ledger["stages"]["gan_evaluation"]["result"]["band_fd"]
    assert sum(band["trained"].values()) < 0.5 * sum(band["untrained"].values())
    speakers = json.loads((tiny_demo / "fewshot" / "fewshot_results.json").read_text())["speakers"]
    assert len(speakers) >= 4 and all(-1.0 <= s["after"] <= 1.0 for s in speakers)


@pytest.mark.slow
def test_rerun_skips_finished_stages_and_redoes_unfinished_ones(tiny_demo, synthetic_corpus, capsys):
    first = (tiny_demo.parent / "console.txt").read_text()  # the fixture's run, with --no-progress
    assert first.count("done in") == len(STAGES) and not progress_bars(first), progress_bars(first)[:5]
    assert progress_bars("eGeMAPS functionals:  7%|▋  | 5/70 [00:00<00:04, 14.39it/s]\r")
    args = ["demo", "--size", "tiny", "--out", str(tiny_demo), "--data", str(synthetic_corpus), "--no-progress"]
    ledger_path = tiny_demo / LEDGER
    before = ledger_path.read_text()
    start = time.perf_counter()
    assert main(args) == 0
    assert time.perf_counter() - start < 30
    err = capsys.readouterr().err
    assert err.count("skipped") == len(STAGES) and "running" not in err
    assert ledger_path.read_text() == before

    # An interrupted run: the last stages never finished. Only they run again.
    ledger = json.loads(before)
    for name in ("submissions", "report"):
        del ledger["stages"][name]
    ledger_path.write_text(json.dumps(ledger))
    (tiny_demo / "report.html").unlink()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "[8/9] submissions: running" in err and "[9/9] report: running" in err
    assert err.count("skipped") == len(STAGES) - 2
    assert (tiny_demo / "report.html").exists()
    assert list(json.loads(ledger_path.read_text())["stages"]) == list(STAGES)


@pytest.mark.slow
def test_a_run_folder_of_another_size_is_refused(tiny_demo, capsys):
    assert main(["demo", "--size", "small", "--out", str(tiny_demo), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stages.json" in err[0] and "another config" in err[0]


def test_experiment_configs_resolve_from_an_installed_package(tmp_path):
    """A non-editable install run from another folder finds `experiments/...` configs (they ship with it)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("exvo_jax", "experiments"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    target, elsewhere = tmp_path / "installed", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(target), str(source)], check=True, capture_output=True)
    code = ("import exvo_jax; from exvo_jax.config_files import load_config; "
            "c = load_config('experiments/demo.py:tiny'); print(exvo_jax.__file__, c.size, c.generate.mode)")
    shown = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(target)},
                           check=True, capture_output=True, text=True).stdout
    assert shown.split() == [str(target / "exvo_jax" / "__init__.py"), "tiny", "conditional"]


def test_without_data_the_corpus_stage_writes_the_synthetic_release(tmp_path, synthetic_corpus):
    corpus = corpus_stage(get_config("tiny"), tmp_path, None, progress=False)
    assert corpus["path"] == str(tmp_path / "corpus") and corpus["synthetic"] and corpus["test_labels"]
    written = sorted(p.relative_to(tmp_path / "corpus") for p in (tmp_path / "corpus").rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(synthetic_corpus) for p in synthetic_corpus.rglob("*") if p.is_file())
    for name in ("data_info.csv", "test_labels.csv"):
        assert (tmp_path / "corpus" / name).read_bytes() == (synthetic_corpus / name).read_bytes()


def test_data_must_be_a_release_or_a_nonverbal_corpus(tmp_path, synthetic_corpus, capsys):
    """`--data` takes a release as it is (its Test labels decide what is scored); a folder that is neither a
    release nor a nonverbal-vocalisation corpus (one without clips included) is a one-line error."""
    corpus = corpus_stage(get_config("tiny"), tmp_path, str(synthetic_corpus), progress=False)
    assert corpus["path"] == str(synthetic_corpus.resolve()) and not corpus["synthetic"] and corpus["test_labels"]
    assert corpus["layout"] == "release" and not (tmp_path / "corpus").exists()
    without_clips = tmp_path / "nonverbal"
    without_clips.mkdir()
    (without_clips / METADATA_FILE).write_text("{}")
    for data, message in ((tmp_path / "empty", "neither data_info.csv"),
                          (without_clips, "no <class>/*.wav clips found")):
        data.mkdir(exist_ok=True)
        assert main(["demo", "--size", "tiny", "--out", str(tmp_path / "out"), "--data", str(data)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
