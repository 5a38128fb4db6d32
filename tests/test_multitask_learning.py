"""Multitask learning checks: synthetic corpus end to end through the CLI, and real recordings vs a linear yardstick.

Synthetic: S_MTL of the trained network (mean over seeds) clearly above the trivial predictor (mean emotions,
mean age, majority country), then `predict` writes a valid submission and validation predictions that
reproduce the reported scores. Real: on held-out speakers of the nonverbal-vocalisation corpus (validation
and test speakers), the vocalisation-type UAR is within 0.05 of a scikit-learn logistic regression on the
same eGeMAPS features and split; sex UAR and age MAE are printed beside the majority / mean predictor.
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
from exvo_jax.features.scaling import StandardScaler
from exvo_jax.submission import validate_csv
from exvo_jax.tracks.multitask import render_markdown, train_and_evaluate
from exvo_jax.tracks.multitask.data import load_data


@pytest.fixture(scope="module")
def learnable_corpus(tmp_path_factory):
    """60 speakers x 8 clips: enough training clips (~160) for emotions and country to be learnable from eGeMAPS."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("learnable_corpus")
    write_corpus(root, speakers=60, clips_per_speaker=8, seed=0, progress=False)
    return root


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
    assert (workdir / "losses.png").read_bytes()[:4] == b"\x89PNG"
    table = (workdir / "results.md").read_text()
    assert table == render_markdown(results) and "mean ± std" in table and "trivial predictor" in table
    assert "| eGeMAPS |" in render_markdown([results])  # Table 2 layout: one row per feature set

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


def test_real_recordings_vocalisation_type_matches_a_logistic_regression(nonverbal_dir, tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    config = load_config("experiments/multitask/nonverbal.py:tiny")
    config.data_dir = str(nonverbal_dir)
    workdir = tmp_path_factory.mktemp("nonverbal")
    data = load_data(config, workdir)  # eGeMAPS of all clips, cached in workdir for the training run below
    scaler = StandardScaler.fit(data.train.features)
    regression = LogisticRegression(max_iter=3000).fit(scaler.transform(data.train.features), data.train.labels["type"])
    lr = {split: float(metrics.uar(getattr(data, split).labels["type"],
                                   regression.predict(scaler.transform(getattr(data, split).features)), 16))
          for split in ("val", "test")}
    results = train_and_evaluate(config, workdir)
    val, test, trivial = results["mean"], results["test"]["mean"], results["trivial"]
    print(f"\nnonverbal ({len(data.train)} train / {len(data.val)} validation / {len(data.test)} test clips, disjoint "
          f"speakers): type UAR validation {val['Type UAR']:.3f} (logistic regression {lr['val']:.3f}), test "
          f"{test['Type UAR']:.3f} (logistic regression {lr['test']:.3f}), chance 0.0625; sex UAR {val['Sex UAR']:.3f} "
          f"(majority 0.5); age MAE {val['Age MAE']:.2f} (mean predictor {trivial['Age MAE']:.2f})")
    assert val["Type UAR"] >= lr["val"] - 0.05
    assert test["Type UAR"] >= lr["test"] - 0.05
    assert val["Sex UAR"] > trivial["Sex UAR"]
