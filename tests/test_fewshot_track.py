"""Few-shot track end to end on a synthetic corpus: learning, adaptation gain, Table 4, resume, submission."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from exvo_jax.cli import main
from exvo_jax.config_files import load_config
from exvo_jax.data.release import read_release
from exvo_jax.metrics import mean_ccc
from exvo_jax.submission.validate import validate_csv
from exvo_jax.tracks.fewshot import render_table, train_and_evaluate
from exvo_jax.tracks.fewshot.predict import predict_split
from exvo_jax.tracks.fewshot.training import FramedSet, build_model, epoch_batches, fit, train_step_program

# Margins, measured on this corpus and config (deterministic on CPU): speaker-independent Val mean CCC
# about 0.24 (a constant predictor scores 0); adaptation adds about 0.09 on Val speakers.
MIN_SPEAKER_INDEPENDENT_CCC = 0.1
MIN_ADAPTATION_GAIN = 0.015


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """40 speakers x 6 clips: enough Train clips (about 90) for the narrow test model to learn from audio."""
    from exvo_jax.synth import write_corpus

    root = tmp_path_factory.mktemp("fewshot_corpus")
    write_corpus(root, speakers=40, clips_per_speaker=6, seed=0)
    return root


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    config = load_config("experiments/fewshot/tiny.py")
    config.data_dir = str(corpus)
    config.speaker_norm = False
    workdir = tmp_path_factory.mktemp("fewshot_run")
    return config, workdir, train_and_evaluate(config, workdir, progress=False)


def test_speaker_independent_model_beats_the_mean_predictor(run, corpus):
    _, _, results = run
    val = [c for c in read_release(corpus).split("Val")]
    targets = np.stack([c.emotions for c in val])
    train_mean = np.stack([c.emotions for c in read_release(corpus).split("Train")]).mean(0)
    constant = float(mean_ccc(targets, np.broadcast_to(train_mean, targets.shape) + 0.0))
    assert constant == pytest.approx(0.0, abs=1e-6)
    assert results["val_mean_ccc_speaker_independent"] > constant + MIN_SPEAKER_INDEPENDENT_CCC


def test_adaptation_raises_ccc_on_validation_speakers(run):
    _, _, results = run
    no_adapt, adapted = results["validation_table"][:2]
    assert no_adapt["setting"] == "no adaptation" and adapted["setting"].startswith("adapted")
    assert adapted["mean_ccc"] > no_adapt["mean_ccc"] + MIN_ADAPTATION_GAIN
    assert set(results["modes"]) == {"full", "bias_head", "lora"}
    assert results["selected"]["mode"] in results["modes"]


def test_table4_and_outputs_are_written(run):
    config, workdir, results = run
    settings = [row["setting"].split(" (")[0] for row in results["table"]]
    assert settings == ["no adaptation", "adapted", "episodic + adapted"]
    assert results["eval_split"] == "Test"
    for row in results["table"]:
        assert len(row["ccc"]) == 10 and np.isfinite(row["mean_ccc"])
    markdown = Path(results["paths"]["markdown"]).read_text()
    assert render_table(results["table"]) in markdown and "Mean CCC" in markdown
    assert json.loads(Path(results["paths"]["json"]).read_text())["table"] == results["table"]
    assert Path(results["paths"]["plot"]).stat().st_size > 0
    assert "plain_continued_adapted" in results["comparisons"]
    assert main(["fewshot", "evaluate", "--workdirs", str(workdir), "--out", str(workdir / "t4.md")]) == 0
    assert (workdir / "t4.md").read_text() == render_table(results["table"])


def test_training_compiles_once_per_bucket(run):
    config, _, _ = run
    assert train_step_program(build_model(config))._cache_size() <= len(config.buckets)


def test_predict_writes_a_valid_submission(run, corpus, tmp_path):
    _, workdir, _ = run
    path = predict_split(workdir, corpus, tmp_path, split="Test", team="tests", number=2, progress=False)
    assert path.name == "ExVo-Few_tests_2.csv"
    report = validate_csv(path, read_release(corpus), "Test")
    assert not report.errors, report.errors
    assert main(["fewshot", "predict", "--workdir", str(workdir), "--data-dir", str(corpus), "--out",
                 str(tmp_path / "cli"), "--split", "Val"]) == 0
    assert not validate_csv(tmp_path / "cli" / "ExVo-Few_exvo-jax_1.csv", read_release(corpus), "Val").errors


def test_epoch_batches_hold_every_clip_once_and_weigh_fill_rows_zero():
    lengths = (1, 3, 12, 5, 2)  # the 12-frame clip is cropped to the largest bucket
    data = FramedSet([np.full((n, 1600), i, np.float32) for i, n in enumerate(lengths)],
                     np.repeat(np.arange(5, dtype=np.float32)[:, None], 10, axis=1))
    seen = []
    for frames, mask, targets, weights in epoch_batches(data, 2, (4, 8), seed=0, epoch=0):
        assert frames.shape[0] == 2 and frames.shape[1] in (4, 8) and weights.dtype == np.float32
        for row in np.flatnonzero(weights):
            clip = int(targets[row, 0])
            seen.append(clip)
            assert mask[row].sum() == min(lengths[clip], 8) and (frames[row][mask[row]] == clip).all()
        assert not frames[weights == 0].any() and not mask[weights == 0].any()
    assert sorted(seen) == list(range(5))


def test_resume_is_exact(tmp_path):
    config = load_config("experiments/fewshot/tiny.py")
    config.train.patience = 100
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(int(n), 1600)).astype(np.float32) * 0.1 for n in rng.integers(1, 10, size=12)]
    data = FramedSet(frames, rng.uniform(size=(12, 10)).astype(np.float32))
    config.train.epochs = 3
    straight, history = fit(config, tmp_path / "straight", data, data, progress=False)
    config.train.epochs = 2
    fit(config, tmp_path / "resumed", data, data, progress=False)
    config.train.epochs = 3
    resumed, resumed_history = fit(config, tmp_path / "resumed", data, data, progress=False)
    assert [h["epoch"] for h in resumed_history] == [1, 2, 3]
    assert resumed_history == history
    for a, b in zip(jax.tree.leaves(straight.best_params), jax.tree.leaves(resumed.best_params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_missing_run_is_reported(tmp_path, corpus):
    from exvo_jax.data.errors import DataError

    with pytest.raises(DataError, match="run `exvo-jax fewshot train`"):
        predict_split(tmp_path, corpus, tmp_path)
