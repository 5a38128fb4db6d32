"""Submission writers, validators and scoring on a tiny labelled release."""

from __future__ import annotations

import csv

import audmetric
import numpy as np
import pytest
import soundfile as sf

from exvo_jax import submission
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS
from tests.support.submission_corpus import write_labelled_release


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_labelled_release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def corpus(release):
    return read_release(release, test_labels=True)


def _perfect_multitask(path, corpus, split="Test"):
    clips = submission.required_clips(corpus, split, submission.MULTITASK)
    labels = label_arrays(clips)
    return submission.write_multitask_submission(
        path, [c.file_id for c in clips], labels["country"], labels["age"], labels["emotions"])


def _perfect_fewshot(path, corpus, split="Test"):
    clips = submission.required_clips(corpus, split, submission.FEWSHOT)
    return submission.write_fewshot_submission(path, [c.file_id for c in clips], label_arrays(clips)["emotions"])


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_filenames():
    assert submission.submission_filename("multitask", "hume-lab", 1) == "ExVo-Multi_hume-lab_1.csv"
    assert submission.submission_filename("fewshot", "team2", 3) == "ExVo-Few_team2_3.csv"
    with pytest.raises(ValueError, match="team name 'a_b' must be letters"):
        submission.submission_filename("fewshot", "a_b", 1)
    with pytest.raises(ValueError, match="unknown track 'generate'"):
        submission.submission_filename("generate", "t", 1)


def test_writers_use_official_columns_and_brackets(tmp_path, corpus):
    multi = _rows(_perfect_multitask(tmp_path / "ExVo-Multi_t_1.csv", corpus))
    assert multi[0] == ["File_ID", "Country", "Age", *EMOTIONS]
    assert multi[1][0] == "[110]" and multi[1][1] in {"0", "1", "2", "3"}
    assert len(multi) == 1 + 9  # every Test clip
    few = _rows(_perfect_fewshot(tmp_path / "ExVo-Few_t_1.csv", corpus))
    assert few[0] == ["File_ID", *EMOTIONS]
    assert [r[0] for r in few[1:]] == ["[112]", "[113]", "[116]", "[117]", "[118]"]  # query clips only
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_writer_argument_checks(tmp_path):
    with pytest.raises(ValueError, match=r"emotions must have shape \[2, 10\]"):
        submission.write_fewshot_submission(tmp_path / "x.csv", ["1", "2"], np.zeros((2, 9)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        submission.write_fewshot_submission(tmp_path / "x.csv", ["1"], np.full((1, 10), np.nan))
    with pytest.raises(ValueError, match="country indices must lie in 0..3"):
        submission.write_multitask_submission(tmp_path / "x.csv", ["1"], [4], [20.0], np.zeros((1, 10)))
    assert not (tmp_path / "x.csv").exists()


def test_multitask_writer_accepts_country_logits(tmp_path):
    logits = np.array([[0.1, 2.0, 0.0, -1.0]])
    rows = _rows(submission.write_multitask_submission(tmp_path / "x.csv", ["[7]"], logits, [30.0], np.zeros((1, 10))))
    assert rows[1][:3] == ["[7]", "1", "30.0"]


@pytest.mark.parametrize("split", ["Val", "Test"])
def test_valid_submissions_pass_and_track_is_detected(tmp_path, corpus, split):
    multi = submission.validate_csv(_perfect_multitask(tmp_path / "m.csv", corpus, split), corpus, split)
    few = submission.validate_csv(_perfect_fewshot(tmp_path / "f.csv", corpus, split), corpus, split)
    assert (multi.ok, multi.track, multi.problems) == (True, "multitask", ())
    assert (few.ok, few.track, few.problems) == (True, "fewshot", ())
    assert len(few.predictions.file_ids) == len(submission.required_clips(corpus, split, "fewshot"))


def _edit(path, edit):
    rows = _rows(path)
    edit(rows)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _messages(report):
    return [str(p) for p in report.errors]


def test_validator_reports_each_problem_with_its_row(tmp_path, corpus):
    path = _perfect_multitask(tmp_path / "m.csv", corpus)

    def damage(rows):
        rows[1][3] = "1.5"  # emotion out of range
        rows[2][2] = "nan"  # age not finite
        rows[3][1] = "7"  # bad country code
        rows[4][2] = "400"  # implausible age
        rows[5] = rows[5][:-1]  # short row
        rows[6][0] = rows[7][0]  # duplicate id (and so one clip missing)
        rows.append(["[104]", *rows[1][1:]])  # a Val clip: not required
        rows.append(["[999]", *rows[1][1:]])  # unknown clip
        rows.append(["", *rows[1][1:]])  # no id

    report = submission.validate_csv(_edit(path, damage), corpus, "Test")
    messages = _messages(report)
    assert not report.ok and report.predictions is None
    assert f"{path}: row 1: Awe=1.5 outside [0, 1]" in messages
    assert f"{path}: row 2: Age is 'nan' (must be finite)" in messages
    assert f"{path}: row 3: Country='7' is not a class index 0..3" in messages
    assert f"{path}: row 4: Age=400 is implausible (expected 1..120 years)" in messages
    assert f"{path}: row 5: expected 13 fields, got 12" in messages
    assert f"{path}: row 7: duplicate File_ID [116] (first at row 6)" in messages
    assert f"{path}: row 10: File_ID [104] is not required for the Test split: a Val clip" in messages
    assert f"{path}: row 11: File_ID [999] is not required for the Test split: unknown clip" in messages
    assert f"{path}: row 12: empty File_ID" in messages
    assert f"{path}: 1 required Test clip(s) have no prediction: [115]" in messages
    assert len(messages) == 10


def test_fewshot_validator_rejects_support_clips_and_missing_queries(tmp_path, corpus):
    path = _perfect_fewshot(tmp_path / "f.csv", corpus)
    report = submission.validate_csv(_edit(path, lambda rows: rows.__setitem__(1, ["[111]", *rows[1][1:]])), corpus, "Test")
    assert _messages(report) == [
        f"{path}: row 1: File_ID [111] is not required for the Test split: a few-shot support clip (only query clips are predicted)",
        f"{path}: 1 required Test clip(s) have no prediction: [112]",
    ]


def test_header_problems(tmp_path, corpus):
    path = _perfect_multitask(tmp_path / "m.csv", corpus)
    swapped = _edit(path, lambda rows: [r.__setitem__(slice(1, 3), r[2:0:-1]) for r in rows])
    assert "columns of a multitask submission in the wrong order" in _messages(submission.validate_csv(swapped, corpus))[0]
    renamed = _edit(_perfect_multitask(path, corpus), lambda rows: rows[0].__setitem__(3, "awe"))
    message = _messages(submission.validate_csv(renamed, corpus))[0]
    assert message.startswith(f"{path}: row 0: columns File_ID,Country,Age,awe,") and "match no track" in message


def test_unbracketed_ids_are_a_warning(tmp_path, corpus):
    path = _edit(_perfect_fewshot(tmp_path / "f.csv", corpus), lambda rows: rows[1].__setitem__(0, rows[1][0].strip("[]")))
    report = submission.validate_csv(path, corpus)
    assert report.ok
    assert [str(p) for p in report.problems] == [f"{path}: row 1: File_ID '112' should be written with brackets, [112]"]


def test_scoring_perfect_and_noisy_predictions(tmp_path, release, corpus):
    perfect = submission.score_submission(_perfect_multitask(tmp_path / "m.csv", corpus), release, "Test", "multitask")
    assert perfect["ccc"] == pytest.approx(1.0) and perfect["uar"] == 1.0 and perfect["mae"] == 0.0
    assert perfect["s_mtl"] == pytest.approx(1.5)  # 1/MAE = inf: 3 / (1/CCC + 1/UAR)
    assert set(perfect["ccc_per_emotion"]) == set(EMOTIONS)
    reference = submission.score_submission(tmp_path / "m.csv", release, "Test", "multitask", ccc_variant="reference")
    assert reference["ccc"] == pytest.approx(8 / 9)  # (N-1)/N with N = 9 Test clips

    clips = submission.required_clips(corpus, "Val", "fewshot")
    truth = label_arrays(clips)["emotions"]
    noisy = np.clip(truth + np.random.default_rng(1).normal(0, 0.2, truth.shape), 0, 1)
    submission.write_fewshot_submission(tmp_path / "f.csv", [c.file_id for c in clips], noisy)
    scores = submission.score_submission(tmp_path / "f.csv", release, "Val", "fewshot")
    assert set(scores) == {"ccc", "ccc_per_emotion"}
    expected = [audmetric.concordance_cc(truth[:, k], noisy.astype(np.float32)[:, k])
                for k in range(10)]
    np.testing.assert_allclose(list(scores["ccc_per_emotion"].values()), expected, atol=1e-5)
    rounded = submission.score_submission(tmp_path / "f.csv", release, "Val", "fewshot", reference_rounding=True)
    assert all(v == round(v, 4) for v in rounded["ccc_per_emotion"].values())


def test_scoring_errors(tmp_path, release, corpus):
    blinded = write_labelled_release(tmp_path / "blinded", test_labels=False)
    path = _perfect_fewshot(tmp_path / "f.csv", corpus)
    with pytest.raises(DataError, match="Test labels are blinded"):
        submission.score_submission(path, blinded, "Test", "fewshot")
    with pytest.raises(DataError, match="a fewshot submission, but multitask scores were asked for"):
        submission.score_submission(path, release, "Test", "multitask")
    bad = _edit(path, lambda rows: rows[2].__setitem__(4, "-0.5"))
    with pytest.raises(DataError, match=r"invalid submission \(1 problem\(s\)\): .*row 2: Awkwardness=-0.5 outside"):
        submission.score_submission(bad, release, "Test", "fewshot")


def test_generation_folder_writer_and_validator(tmp_path):
    waves = {"Awe": [np.sin(np.arange(800) * 0.1 * (k + 1)) * 0.3 for k in range(3)], "Fear": [np.ones(400) * 0.1] * 3}
    paths = submission.write_generated_clips(tmp_path / "gen", waves, clips_per_emotion=3)
    assert sorted(p.relative_to(tmp_path / "gen").as_posix() for p in paths)[:2] == ["Awe/Awe_0000.wav", "Awe/Awe_0001.wav"]
    info = sf.info(str(paths[0]))
    assert (info.samplerate, info.channels) == (16000, 1)
    assert submission.validate_submission(tmp_path / "gen", None, clips_per_emotion=3).ok
    report = submission.validate_generation_folder(tmp_path / "gen", clips_per_emotion=4)
    assert [str(p) for p in report.errors] == [
        f"{tmp_path / 'gen' / e}: 3 wav files, expected 4 (missing {e}_0003.wav)" for e in ("Awe", "Fear")]
    (tmp_path / "gen" / "Joy").mkdir()
    assert "unknown emotion folder" in str(submission.validate_generation_folder(tmp_path / "gen", 3).errors[0])
    with pytest.raises(ValueError, match="Awe: 3 clips, expected 100"):
        submission.write_generated_clips(tmp_path / "gen2", waves)
    with pytest.raises(ValueError, match="unknown emotions Joy"):
        submission.write_generated_clips(tmp_path / "gen2", {"Joy": []}, clips_per_emotion=0)


def test_fewshot_required_clips_follow_the_labelled_support(corpus):
    """With support labels for some Test clips only, those are the support wherever they sit in the file."""
    import dataclasses

    test = corpus.split("Test")
    by_speaker: dict[str, list] = {}
    for clip in test:
        by_speaker.setdefault(clip.speaker, []).append(clip)
    support = {c.file_id for clips in by_speaker.values() for c in clips[-2:]}  # the last two, not the first
    blinded = tuple(c if c.file_id in support or c.split != "Test"
                    else dataclasses.replace(c, age=None, country=None, emotions=None) for c in corpus.clips)
    partial = dataclasses.replace(corpus, clips=blinded)
    required = {c.file_id for c in submission.required_clips(partial, "Test", submission.FEWSHOT)}
    assert required == {c.file_id for c in test} - support
