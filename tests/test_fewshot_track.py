"""Few-shot track end to end on a synthetic corpus: learning, adaptation gain, Table 4, resume, submission."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from exvo_jax.cli import main
from exvo_jax.config_files import load_config
from exvo_jax.data.release import TEST_LABELS, read_release
from exvo_jax.data.speakers import group_by_speaker
from exvo_jax.metrics import mean_ccc
from exvo_jax.recognition.training import (FramedSet, build_model, epoch_batches, train_mesh,
                                           train_step_program)
from exvo_jax.submission.validate import validate_csv
from exvo_jax.tracks import fewshot
from exvo_jax.tracks.fewshot.report import render_table
from tests.support.in_memory_runs import fit_recognition

# One worker runs the whole module, so its module-scoped fixtures are built once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("fewshot_track")

# Margins, measured on this corpus and config (deterministic on CPU), on the held-out Test speakers that
# chose nothing (epoch, adaptation and head are chosen on Val): the speaker-independent mean CCC is about
# 0.25 and adaptation adds about 0.10; the train-mean predictor scores 0.
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
def feature_cache(tmp_path_factory) -> Path:
    """One eGeMAPS cache for every run on the corpus (the yardstick's functionals are computed once)."""
    return tmp_path_factory.mktemp("fewshot_features")


@pytest.fixture(scope="module")
def run(corpus, feature_cache, tmp_path_factory):
    config = load_config("experiments/fewshot/tiny.py")
    config.data_dir = str(corpus)
    config.cache_dir = str(feature_cache)
    config.speaker_norm = False
    workdir = tmp_path_factory.mktemp("fewshot_run")
    train_step_program.cache_clear()  # other tests in this process may have compiled the same model on other shapes
    settings = fewshot.settings(config)
    return settings, workdir, fewshot.train(settings, workdir, progress=False)


def train_mean_ccc(corpus: Path) -> float:
    """Mean CCC of the trivial predictor (Train means for every clip) on the held-out Test speakers."""
    release = read_release(corpus, test_labels=True)
    targets = np.stack([c.emotions for c in release.split("Test")])
    train_mean = np.stack([c.emotions for c in release.split("Train")]).mean(0)
    return float(mean_ccc(targets, np.broadcast_to(train_mean, targets.shape) + 0.0))


@pytest.mark.slow
def test_speaker_independent_model_beats_the_mean_predictor_on_held_out_speakers(run, corpus):
    _, _, results = run
    assert results["selection_split"] == "Val" and results["eval_split"] == "Test"
    no_adapt = results["table"][0]
    assert no_adapt["setting"] == "no adaptation" and no_adapt["split"] == "Test"
    trivial = train_mean_ccc(corpus)
    assert trivial == pytest.approx(0.0, abs=1e-6)
    print(f"held-out Test: train mean {trivial:.3f}, speaker-independent {no_adapt['mean_ccc']:.3f}")
    assert no_adapt["mean_ccc"] > trivial + MIN_SPEAKER_INDEPENDENT_CCC


@pytest.mark.slow
def test_adaptation_raises_ccc_on_held_out_speakers(run, corpus):
    _, _, results = run
    no_adapt, adapted = results["table"][:2]
    assert no_adapt["setting"] == "no adaptation" and adapted["setting"].startswith("adapted")
    assert adapted["split"] == "Test"
    print(f"held-out Test: no adaptation {no_adapt['mean_ccc']:.3f}, adapted {adapted['mean_ccc']:.3f}; "
          f"Val: {[round(r['mean_ccc'], 3) for r in results['validation_table']]}")
    assert adapted["mean_ccc"] > no_adapt["mean_ccc"] + MIN_ADAPTATION_GAIN
    assert adapted["mean_ccc"] > train_mean_ccc(corpus) + MIN_SPEAKER_INDEPENDENT_CCC + MIN_ADAPTATION_GAIN
    assert set(results["modes"]) == {"full", "bias_head", "lora", "ridge"}
    assert results["selected"]["mode"] in results["modes"]


@pytest.mark.slow
def test_table4_and_outputs_are_written(run):
    config, workdir, results = run
    settings = [row["setting"].split(" (")[0] for row in results["table"]]
    modes = [row["setting"].split(",")[0] for row in results["table"][3:7]]
    assert settings[:3] == ["no adaptation", "adapted", "episodic + adapted"] and modes == list(config.adapt.modes)
    assert settings[7:] == ["trivial predictor", "linear yardstick"]
    assert all(row["seconds"] >= 0 for row in results["table"][:7])
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


@pytest.mark.slow
def test_without_test_labels_table4_is_scored_on_held_out_val_speakers(corpus, feature_cache, tmp_path):
    """A release without Test labels: choices on half the Val speakers, Table 4 on the other half."""
    release = tmp_path / "release"
    release.mkdir()
    for name in ("data_info.csv", "wav"):
        (release / name).symlink_to(corpus / name)
    config = load_config("experiments/fewshot/tiny.py")
    config.data_dir, config.cache_dir = str(release), str(feature_cache)
    config.speaker_norm, config.episodic.enabled = False, False
    config.train.epochs, config.adapt.modes = 1, ("bias_head",)
    results = fewshot.train(fewshot.settings(config), tmp_path / "run", progress=False)
    assert (results["selection_split"], results["eval_split"]) == ("Val-select", "Val-heldout")
    assert {row["split"] for row in results["table"]} == {"Val-heldout"}
    assert {row["split"] for row in results["validation_table"]} == {"Val-select"}
    val = read_release(corpus).split("Val")
    assert results["table"][0]["clips"] + results["validation_table"][0]["clips"] == len(val) - 2 * len(
        group_by_speaker(val))
    assert "held out from every choice" in Path(results["paths"]["markdown"]).read_text()


@pytest.mark.slow
def test_ridge_head_and_yardsticks_on_held_out_speakers(run, corpus):
    """The closed-form head beats no adaptation on held-out speakers; the yardsticks sit beside it in Table 4."""
    _, _, results = run
    rows = {row["setting"].split(",")[0].split(" (")[0]: row for row in results["table"]}
    ridge, no_adapt = rows["ridge"], rows["no adaptation"]
    yardstick = rows["linear yardstick"]
    print(f"held-out Test: no adaptation {no_adapt['mean_ccc']:.3f}, {ridge['setting']} {ridge['mean_ccc']:.3f} "
          f"({ridge['seconds']:.3f} s), {yardstick['setting']} {yardstick['mean_ccc']:.3f}")
    assert ridge["split"] == "Test" and ridge["mean_ccc"] > no_adapt["mean_ccc"] + MIN_ADAPTATION_GAIN
    assert rows["trivial predictor"]["mean_ccc"] == pytest.approx(train_mean_ccc(corpus), abs=1e-6)
    assert yardstick["model"] == "eGeMAPS ridge" and yardstick["clips"] == ridge["clips"]
    alphas = results["yardstick"]["selection"]
    chosen = max(alphas, key=lambda a: a["val_mean_ccc"])["alpha"]
    assert yardstick["setting"] == f"linear yardstick (alpha={chosen:g})"
    assert [row["setting"].split(" (")[0] for row in results["validation_table"][-2:]] == [
        "trivial predictor", "linear yardstick"]


@pytest.mark.slow
def test_training_compiles_once_per_bucket(run):
    config, _, _ = run
    assert 1 <= train_step_program(build_model(config), train_mesh(config))._cache_size() <= len(config.buckets)


@pytest.mark.slow
def test_predict_writes_a_valid_submission(run, corpus, tmp_path):
    _, workdir, _ = run
    path = fewshot.predict(workdir, corpus, tmp_path, split="Test", team="tests", number=2, progress=False)
    assert path.name == "ExVo-Few_tests_2.csv"
    report = validate_csv(path, read_release(corpus), "Test")
    assert not report.errors, report.errors
    assert main(["fewshot", "predict", "--workdir", str(workdir), "--data-dir", str(corpus), "--out",
                 str(tmp_path / "cli"), "--split", "Val"]) == 0
    assert not validate_csv(tmp_path / "cli" / "ExVo-Few_exvo-jax_1.csv", read_release(corpus), "Val").errors


@pytest.mark.slow
def test_predict_takes_the_labelled_test_clips_as_support_wherever_they_sit(run, corpus, tmp_path):
    """Support labels released for the LAST two clips of each Test speaker: those are the support, the rest query."""
    _, workdir, _ = run
    test = read_release(corpus).split("Test")
    support = {c.file_id for clips in group_by_speaker(test).values() for c in clips[-2:]}
    with (corpus / TEST_LABELS).open(newline="") as f:
        rows = list(csv.DictReader(f))
    with (tmp_path / "support.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["File_ID"].strip("[]") in support)
    path = fewshot.predict(workdir, corpus, tmp_path / "out", split="Test", support_labels=tmp_path / "support.csv",
                         progress=False)
    with path.open(newline="") as f:
        predicted = [r["File_ID"].strip("[]") for r in csv.DictReader(f)]
    assert sorted(predicted) == sorted(c.file_id for c in test if c.file_id not in support)


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


def fit_in_run(config, workdir, data):
    return fit_recognition(fewshot.settings(config), workdir, data, data)


def test_resume_is_exact(tmp_path):
    config = load_config("experiments/fewshot/tiny.py")
    config.train.patience = 100
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(int(n), 1600)).astype(np.float32) * 0.1 for n in rng.integers(1, 10, size=12)]
    data = FramedSet(frames, rng.uniform(size=(12, 10)).astype(np.float32))
    config.train.epochs = 3
    straight, history = fit_in_run(config, tmp_path / "straight", data)
    config.train.epochs = 2
    fit_in_run(config, tmp_path / "resumed", data)
    config.train.epochs = 3
    resumed, resumed_history = fit_in_run(config, tmp_path / "resumed", data)
    assert [h["epoch"] for h in resumed_history] == [1, 2, 3]
    assert resumed_history == history
    for a, b in zip(jax.tree.leaves(straight.best_params), jax.tree.leaves(resumed.best_params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_missing_run_is_reported(tmp_path, corpus):
    from exvo_jax.data.errors import DataError

    with pytest.raises(DataError, match="run `exvo-jax fewshot train`"):
        fewshot.predict(tmp_path, corpus, tmp_path)
