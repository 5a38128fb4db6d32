"""`exvo-jax score` and `exvo-jax validate-submission` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exvo_jax import submission
from exvo_jax.cli import main
from exvo_jax.data.release import label_arrays, read_release
from tests.support.submission_corpus import write_labelled_release


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_labelled_release(tmp_path_factory.mktemp("release"))


def _perfect(release, out_dir, track, split="Test"):
    corpus = read_release(release, test_labels=True)
    clips = submission.required_clips(corpus, split, track)
    labels = label_arrays(clips)
    ids = [c.file_id for c in clips]
    if track == "multitask":
        return submission.write_multitask_submission(out_dir / "ExVo-Multi_t_1.csv", ids, labels["country"], labels["age"], labels["emotions"])
    return submission.write_fewshot_submission(out_dir / "ExVo-Few_t_1.csv", ids, labels["emotions"])


def test_score_json_of_a_perfect_multitask_file(release, tmp_path, capsys):
    path = _perfect(release, tmp_path, "multitask")
    assert main(["score", "multitask", "--predictions", str(path), "--data", str(release), "--split", "Test", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"ccc", "ccc_per_emotion", "uar", "mae", "s_mtl"}
    assert scores["ccc"] == pytest.approx(1.0) and scores["uar"] == 1.0 and scores["mae"] == 0.0
    assert all(v == pytest.approx(1.0) for v in scores["ccc_per_emotion"].values())
    assert scores["s_mtl"] == pytest.approx(1.5)  # MAE 0: S_MTL = 3 / (1/CCC + 1/UAR)


def test_score_reference_variant_and_table(release, tmp_path, capsys):
    path = _perfect(release, tmp_path, "fewshot", split="Val")
    args = ["score", "fewshot", "--predictions", str(path), "--data", str(release), "--split", "Val"]
    assert main([*args, "--json", "--ccc-variant", "reference"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"ccc", "ccc_per_emotion"}
    assert scores["ccc"] == pytest.approx(2 / 3)  # (N-1)/N with N = 3 Val query clips
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "mean CCC" in table and "1.0000" in table and "CCC Surprise" in table and "S_MTL" not in table


def test_score_errors(release, tmp_path, capsys):
    blinded = write_labelled_release(tmp_path / "blinded", test_labels=False)
    path = _perfect(release, tmp_path, "fewshot")
    assert main(["score", "fewshot", "--predictions", str(path), "--data", str(blinded), "--split", "Test"]) == 2
    assert "Test labels are blinded" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["score", "fewshot", "--predictions", str(path), "--data", str(release), "--split", "Train"])


def test_validate_submission_cli(release, tmp_path, capsys):
    path = _perfect(release, tmp_path, "multitask")
    assert main(["validate-submission", str(path), "--data", str(release)]) == 0
    assert "valid multitask submission" in capsys.readouterr().out
    lines = path.read_text().splitlines()
    fields = lines[3].split(",")
    lines[3] = ",".join([fields[0], "9", *fields[2:]])
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert main(["validate-submission", str(path), "--data", str(release), "--split", "Test"]) == 1
    out = capsys.readouterr().out
    assert f"error: {path}: row 3: Country='9' is not a class index 0..3" in out
    assert "1 required Test clip(s) have no prediction: [118]" in out and "INVALID (2 error(s))" in out
    # Val predictions are not a Test submission.
    assert main(["validate-submission", str(_perfect(release, tmp_path, "fewshot", "Val")), "--data", str(release)]) == 1
    assert main(["validate-submission", str(path)]) == 2
    assert "--data DATA_DIR is required" in capsys.readouterr().err


def test_perfect_predictions_on_the_synthetic_corpus(synthetic_corpus, tmp_path, capsys):
    path = _perfect(synthetic_corpus, tmp_path, "multitask")
    assert main(["validate-submission", str(path), "--data", str(synthetic_corpus)]) == 0
    capsys.readouterr()
    assert main(["score", "multitask", "--predictions", str(path), "--data", str(synthetic_corpus), "--split", "Test", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert (scores["uar"], scores["mae"]) == (1.0, 0.0)
    np.testing.assert_allclose([scores["ccc"], scores["s_mtl"]], [1.0, 1.5], atol=1e-6)
