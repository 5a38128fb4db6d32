"""Bad input: every user error is one line naming the file (and row) and the problem, and NaN is never a score."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import jax
import numpy as np
import pytest
import soundfile as sf

from exvo_jax import metrics
from exvo_jax.cli import main
from exvo_jax.data.audio import load_audio, write_wav
from exvo_jax.data.check import check_release
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import read_feature_csv, read_release
from exvo_jax.data.schema import COUNTRIES, EMOTIONS, OPENSMILE_MIN_SECONDS, SAMPLE_RATE
from exvo_jax.data.speakers import validate_fewshot_protocol
from exvo_jax.features import corpus as corpus_module
from exvo_jax.features.cache import AudioItem, FeatureCache
from exvo_jax.features.opensmile_functionals import smile
from exvo_jax.models.multitask import exvo_tasks
from exvo_jax.submission import write_multitask_submission
from exvo_jax.tracks.multitask import prediction, scoring
from exvo_jax.tracks.multitask.report import render_markdown
from tests.support.release_factory import HEADER, blank_row, labelled_row, small_release, tone, write_release


def one_error_line(capsys, *names: str) -> str:
    """The single stderr line of a failed command; it names every string in `names`."""
    err = capsys.readouterr().err
    assert err.count("error: ") == 1, err
    line = err[err.index("error: "):]  # progress bars, cleared with carriage returns, may come before
    assert line.endswith("\n") and "\n" not in line[:-1] and "\r" not in line, err
    assert all(name in line for name in names), (names, line)
    return line


# NaN is never a score ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", metrics.CCC_VARIANTS)
def test_ccc_of_a_nan_input_is_nan_jitted_and_streaming(variant):
    truth = np.array([0.1, 0.4, 0.3, 0.9], np.float32)
    partial = np.array([0.2, np.nan, 0.3, 0.8], np.float32)
    for pred in (partial, np.full(4, np.nan, np.float32)):
        both_nan = np.where(np.isnan(pred), np.nan, truth).astype(np.float32)
        for y_true, y_pred in ((truth, pred), (both_nan, both_nan), (pred, truth)):
            assert np.isnan(metrics.ccc(y_true, y_pred, variant=variant))
            assert np.isnan(jax.jit(metrics.ccc, static_argnames="variant")(y_true, y_pred, variant=variant))
            assert np.isnan(metrics.RegressionStats.from_batch(y_true, y_pred).ccc(variant))
    columns = np.stack([truth, truth], 1), np.stack([truth, partial], 1)
    assert np.isnan(metrics.ccc(*columns)).tolist() == [False, True]
    assert np.isnan(metrics.mean_ccc(*columns))
    valid = ~np.isnan(partial)
    assert float(metrics.ccc(truth, partial, mask=valid)) == pytest.approx(
        float(metrics.ccc(truth[valid], partial[valid])))  # masked NaN padding is still ignored


def test_uar_and_s_mtl_of_nan_or_infinite_inputs_are_nan():
    labels = np.array([0, 1, 2, 3, 0, 1])
    scores = np.eye(4, dtype=np.float32)[labels]
    scores[2, 1] = np.nan
    assert np.isnan(metrics.uar(labels, scores, 4))
    assert np.isnan(metrics.uar(labels, np.where(np.isnan(scores).any(1), np.nan, labels), 4))
    streamed = metrics.ConfusionStats.from_batch(labels[:3], scores[:3], 4) + metrics.ConfusionStats.from_batch(
        labels[3:], scores[3:], 4)
    assert np.isnan(streamed.uar())
    assert metrics.uar(labels, scores, 4, mask=~np.isnan(scores).any(1)) == 1.0  # masked rows never count
    assert np.isnan(metrics.s_mtl(np.nan, 0.5, 4.0))
    assert np.isnan(metrics.s_mtl(0.5, 0.5, np.inf))
    assert np.isnan(metrics.s_mtl(0.5, np.nan, 4.0))


def test_multitask_scores_of_nan_outputs_are_nan_in_the_table():
    tasks = exvo_tasks()
    rng = np.random.default_rng(0)
    n = 8
    labels = {"emotion": rng.uniform(size=(n, 10)).astype(np.float32), "age": rng.uniform(20, 30, n).astype(np.float32),
              "country": np.arange(n) % 4}
    outputs = {"emotion": labels["emotion"].copy(), "age": labels["age"][:, None].copy(),
               "country": np.eye(4, dtype=np.float32)[labels["country"]]}
    for name in outputs:
        outputs[name][3] = np.nan  # one clip with NaN features gives NaN outputs in every head
    predictions = {t.name: scoring.as_labels(t, outputs[t.name]) for t in tasks}
    scores = scoring.score(tasks, predictions, labels, {"emotion": EMOTIONS, "country": COUNTRIES})
    assert all(math.isnan(scores[k]) for k in ("Mean CCC", "Country UAR", "Age MAE", "S_MTL"))
    table = render_markdown({"feature_set": "eGeMAPS", "seeds": [0], "per_seed": [scores], "best_seed": 0,
                             "mean": scores, "std": scores, "trivial": {}})
    assert "| nan |" in table and "1.0000" not in table


# Clips too short for openSMILE ------------------------------------------------------------------------------


def test_the_measured_opensmile_minimum_duration():
    shortest = round(OPENSMILE_MIN_SECONDS * SAMPLE_RATE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openSMILE warns "Segment too short" below its window
        for feature_set in ("eGeMAPS", "ComParE"):
            below = smile(feature_set).process_signal(tone(1.0)[: shortest - 1], SAMPLE_RATE).to_numpy()
            at = smile(feature_set).process_signal(tone(1.0)[:shortest], SAMPLE_RATE).to_numpy()
            assert np.isnan(below).all() and np.isfinite(at).all(), feature_set


def test_a_clip_too_short_for_opensmile_is_never_cached_and_check_warns(tmp_path):
    write_wav(tmp_path / "ok.wav", tone(0.2))
    write_wav(tmp_path / "short.wav", tone(0.05))
    items = [AudioItem("ok", tmp_path / "ok.wav"), AudioItem("short", tmp_path / "short.wav")]
    with pytest.raises(DataError, match="short.wav: clip is 0.05 s, shorter than the 0.06 s the openSMILE eGeMAPS"):
        corpus_module.functionals(items, "eGeMAPS", tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / "feats" / "eGeMAPS" / "short.csv").exists()

    rows = [labelled_row(f"{k}", "Train", "A") for k in range(2)]
    root = write_release(tmp_path / "release", rows)
    write_wav(root / "wav" / "1.wav", tone(0.05))
    report = check_release(root, shots=0, progress=False)
    assert report.ok and [str(w).split("wav/")[1] for w in report.warnings] == [
        "1.wav: clip is 0.05 s, shorter than the 0.06 s the openSMILE features (ComParE, eGeMAPS) need"]
    assert len(check_release(root, shots=0, strict=True, progress=False).errors) == 1


def test_non_finite_features_are_never_cached_or_served(tmp_path, monkeypatch):
    write_wav(tmp_path / "a.wav", tone(0.2))
    items = [AudioItem("a", tmp_path / "a.wav")]
    monkeypatch.setattr(corpus_module, "_functionals_worker", lambda job: np.full(88, np.nan, np.float32))
    with pytest.raises(DataError, match="a.wav: eGeMAPS features not cached: 88 of 88 values are NaN or infinite"):
        corpus_module.functionals(items, "eGeMAPS", tmp_path / "cache", progress=False)
    cache = FeatureCache(tmp_path / "cache", "eGeMAPS")
    assert not cache.csv_path("a").exists()
    with pytest.raises(DataError, match="a: eGeMAPS features not cached \\(packed Train\\)"):
        cache.write_packed("Train", ["a"], ["k"], np.full((1, 88), np.inf, np.float32))

    # A NaN row left in the cache under the current key is recomputed, never served.
    key = corpus_module.content_key(items[0].path, "eGeMAPS", corpus_module.OPENSMILE_VERSION)
    cache.csv_path("a").parent.mkdir(parents=True)
    cache.csv_path("a").write_text("name,f\n" + ",".join([key] + ["nan"] * 88) + "\n")
    monkeypatch.setattr(corpus_module, "_functionals_worker", lambda job: np.ones(88, np.float32))
    assert np.all(corpus_module.functionals(items, "eGeMAPS", tmp_path / "cache", progress=False) == 1.0)
    with pytest.raises(DataError, match="not a path inside the feature cache"):
        cache.csv_path("../../outside")


def test_multitask_predict_audio_dir_names_the_clip_too_short(tmp_path, monkeypatch, capsys):
    clips = tmp_path / "clips"
    write_wav(clips / "a.wav", tone(0.2))
    write_wav(clips / "b_short.wav", tone(0.05))
    monkeypatch.setattr(prediction, "load_bundle", lambda workdir: SimpleNamespace(feature_set="eGeMAPS"))
    out = tmp_path / "out.csv"
    assert main(["multitask", "predict", "--workdir", str(tmp_path / "run"), "--audio-dir", str(clips),
                 "--out", str(out)]) == 2
    one_error_line(capsys, str(clips / "b_short.wav"), "0.05 s, shorter than the 0.06 s")
    assert not out.exists()


# Truncated audio --------------------------------------------------------------------------------------------


def test_a_truncated_wav_is_an_error_in_loading_and_check(tmp_path):
    root = small_release(tmp_path)
    path = root / "wav" / "01.wav"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert len(sf.read(path)[0]) < len(tone())  # libsndfile alone returns the part that is there
    message = "01.wav: truncated file: the header declares 0.500 s of audio, the file holds 0.249 s"
    with pytest.raises(DataError, match=message):
        load_audio(path)
    report = check_release(root, progress=False)
    assert [str(e).split("wav/")[1].split(":")[:2] for e in report.errors] == [["01.wav", " truncated file"]]


# data_info.csv: empty, header only, not UTF-8, ids that escape the folder -----------------------------------


def test_empty_and_header_only_data_info(tmp_path):
    root = small_release(tmp_path)
    (root / "data_info.csv").write_text("")
    with pytest.raises(DataError, match="data_info.csv: empty file") as err:
        read_release(root)
    assert "missing columns" not in str(err.value)
    report = check_release(root, progress=False)
    assert len(report.errors) == 1 and "data_info.csv: empty file" in str(report.errors[0])

    (root / "data_info.csv").write_text(",".join(HEADER) + "\n")
    with pytest.raises(DataError, match="data_info.csv: no clips"):
        read_release(root)
    report = check_release(root, progress=False)
    assert len(report.errors) == 1 and "data_info.csv: no clips" in str(report.errors[0])


def test_non_utf8_data_info_and_submission_name_the_file_and_row(tmp_path, capsys):
    root = small_release(tmp_path / "release")
    corpus = read_release(root)
    val = corpus.split("Val")
    submission = write_multitask_submission(tmp_path / "ExVo-Multi_t_1.csv", [c.file_id for c in val],
                                            [2] * len(val), [25.0] * len(val), np.full((len(val), 10), 0.5))
    lines = submission.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"25.0", b"25\xff")
    submission.write_bytes(b"\n".join(lines))
    assert main(["validate-submission", str(submission), "--data", str(root), "--split", "Val"]) == 2
    one_error_line(capsys, f"{submission}: row 2: byte 0xff is not UTF-8")
    assert main(["score", "multitask", "--predictions", str(submission), "--data", str(root), "--split", "Val"]) == 2
    one_error_line(capsys, f"{submission}: row 2")

    info = root / "data_info.csv"
    lines = info.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"S0", b"S\xe90")  # Latin-1 e-acute
    info.write_bytes(b"\n".join(lines))
    assert main(["validate-submission", str(submission), "--data", str(root), "--split", "Val"]) == 2
    one_error_line(capsys, f"{info}: row 3: byte 0xe9 is not UTF-8")
    assert main(["check", str(root)]) == 1
    assert f"{info}: row 3: byte 0xe9 is not UTF-8" in capsys.readouterr().out


@pytest.mark.parametrize("raw", ["[../../x]", "[/abs/x]", "[a\\b]", "[..]", "[x\0y]"])
def test_ids_that_are_not_plain_names_are_rejected(tmp_path, raw):
    rows = [labelled_row("ok", "Train", "A"), labelled_row("bad", "Train", "A")]
    rows[1]["File_ID"] = raw
    root = write_release(tmp_path, rows, audio=False)
    with pytest.raises(DataError, match="data_info.csv: row 2: File_ID .* is not a plain file name"):
        read_release(root)
    report = check_release(root, audio=False, progress=False)
    assert len(report.errors) == 1 and "row 2: File_ID" in str(report.errors[0])


def test_the_feature_cache_never_passes_for_the_release_s_shipped_features(tmp_path):
    root = small_release(tmp_path / "release")
    with pytest.raises(DataError, match="release: is a release folder; put the feature cache elsewhere"):
        FeatureCache(root, "eGeMAPS")
    cache = FeatureCache(tmp_path / "cache", "eGeMAPS")  # a cache's CSV copied into a release is refused there
    cache.write_row(AudioItem("00", root / "wav" / "00.wav"), "eGeMAPS|3.0|abc", ["f"] * 88, np.ones(88, np.float32))
    shipped = root / "feats" / "eGeMAPS" / "00.csv"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(cache.csv_path("00").read_bytes())
    with pytest.raises(DataError, match="00.csv: written by the exvo_jax feature cache, not shipped"):
        read_feature_csv(shipped)


def test_nan_labels_and_unknown_countries_name_file_and_row(tmp_path):
    rows = [labelled_row(f"{k}", "Train", "A") for k in range(3)]
    rows[1]["Awe"] = "NaN"
    rows[2]["Country"] = "Narnia"
    root = write_release(tmp_path, rows, audio=False)
    with pytest.raises(DataError, match="data_info.csv: row 2: NaN or empty labels on a Train row: Awe"):
        read_release(root)
    errors = [str(e) for e in check_release(root, audio=False, progress=False).errors]
    assert [e.split("data_info.csv: ")[1] for e in errors] == [
        "row 2: NaN or empty labels on a Train row: Awe",
        "row 3: unknown country 'Narnia' (expected 0..3 or one of China, South Africa, United States, Venezuela)",
    ]


# Command-line arguments: config file, --set, --data-dir ------------------------------------------------------


@pytest.mark.parametrize(
    "args, names",
    [
        (["--config", "experiments/nope.py"], ["experiments/nope.py: config file not found"]),
        (["--config", "experiments/multitask/egemaps.py:tiny", "--data-dir", "{tmp}/nowhere"],
         ["{tmp}/nowhere: data folder not found"]),
        (["--config", "experiments/multitask/egemaps.py:tiny", "--data-dir", "{tmp}", "--set", "nothing=1"],
         ["experiments/multitask/egemaps.py:tiny: --set 'nothing=1'", "known here:"]),
    ],
)
def test_config_and_data_dir_errors_are_one_line_before_any_output(tmp_path, capsys, args, names):
    workdir = tmp_path / "run"
    argv = ["multitask", "train", "--workdir", str(workdir), *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    one_error_line(capsys, *(n.format(tmp=tmp_path) for n in names))
    assert not workdir.exists()


# Few-shot protocol ------------------------------------------------------------------------------------------


def test_fewshot_protocol_is_validated_before_training(tmp_path):
    rows = [labelled_row(f"t{k}", "Train", "A") for k in range(3)]
    rows += [labelled_row("v0", "Val", "V1"), labelled_row("v1", "Val", "V2"), labelled_row("v2", "Val", "V2")]
    rows += [blank_row("x0", "T1")]
    corpus = read_release(write_release(tmp_path, rows, audio=False))
    with pytest.raises(DataError) as err:
        validate_fewshot_protocol(corpus)
    assert str(err.value) == (
        f"{tmp_path / 'data_info.csv'}: the few-shot protocol needs 2 clips per speaker, 2 speaker(s) have fewer: "
        "speaker 'V1' (Val) has 1 (v0); speaker 'T1' (Test) has 1 (x0)")
    with pytest.raises(DataError, match="speaker 'V2' \\(Val\\) has 2 \\(v1, v2\\)"):
        validate_fewshot_protocol(corpus, shots=3, splits=("Val",))
    validate_fewshot_protocol(corpus, shots=1)
    errors = [str(e) for e in check_release(tmp_path, audio=False, progress=False).errors]
    assert errors == ["speaker 'V1' (Val): has 1 clip(s) (v0); the few-shot protocol needs 2",
                      "speaker 'T1' (Test): has 1 clip(s) (x0); the few-shot protocol needs 2"]

