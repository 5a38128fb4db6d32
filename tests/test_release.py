"""Release reader: layout variants parse the same; every bad label or id is an error naming the row."""

from __future__ import annotations

import numpy as np
import pytest

from exvo_jax.data.errors import DataError, Problems
from exvo_jax.data.release import bracket_id, label_arrays, parse_country, read_feature_csv, read_release, strip_id
from exvo_jax.data.schema import EMOTIONS
from tests.support.release_factory import HEADER, blank_row, labelled_row, small_release, write_release


def test_reads_small_release(tmp_path):
    corpus = read_release(small_release(tmp_path))
    assert [len(corpus.split(s)) for s in ("Train", "Val", "Test")] == [6, 3, 3]
    clip = corpus.split("Train")[1]
    assert clip.file_id == "01" and clip.speaker == "S0" and clip.age == 25.0 and clip.country == 2
    assert clip.emotions.dtype == np.float32 and clip.emotions[1] == 1.0
    assert clip.wav_path == tmp_path / "wav" / "01.wav"
    assert all(not c.labelled for c in corpus.split("Test"))
    labels = label_arrays(corpus.split("Train"))
    assert labels["emotions"].shape == (6, 10) and labels["country"].tolist() == [2] * 6


def test_column_order_brackets_and_country_names_do_not_matter(tmp_path):
    rows = [labelled_row("1", "Train", "A", country="Venezuela"), labelled_row("2", "Train", "A", country="3.0")]
    rows[1]["File_ID"] = "2"  # no brackets
    header = list(reversed(HEADER)) + ["Country_string"]
    corpus = read_release(write_release(tmp_path, rows, header=header))
    assert [c.file_id for c in corpus.clips] == ["1", "2"]
    assert [c.country for c in corpus.clips] == [3, 3]


def test_ids_and_countries():
    assert strip_id(" [58712] ") == "58712" and strip_id("58712") == "58712"
    assert bracket_id("58712") == "[58712]" and bracket_id("[58712]") == "[58712]"
    assert parse_country("south africa") == 1 and parse_country("0") == 0
    with pytest.raises(DataError, match="unknown country 'Narnia'"):
        parse_country("Narnia")
    with pytest.raises(DataError, match="unknown country '7'"):
        parse_country("7")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.update(Awe="nan"), "row 1: NaN or empty labels on a Train row: Awe"),
        (lambda r: r.update(Age=""), "row 1: NaN or empty labels on a Train row: Age"),
        (lambda r: r.update(Fear="1.5"), "row 1: emotion intensities outside \\[0, 1\\]: Fear=1.5"),
        (lambda r: r.update(Sadness="-0.1"), "row 1: emotion intensities outside \\[0, 1\\]: Sadness=-0.1"),
        (lambda r: r.update(Country="Atlantis"), "row 1: unknown country 'Atlantis'"),
        (lambda r: r.update(Split="Dev"), "row 1: unknown split 'Dev'"),
        (lambda r: r.update(Age="old"), "row 1: age 'old' is not a number"),
    ],
)
def test_bad_rows_name_file_row_and_problem(tmp_path, mutate, message):
    row = labelled_row("1", "Train", "A")
    mutate(row)
    write_release(tmp_path, [row, labelled_row("2", "Train", "A")], audio=False)
    with pytest.raises(DataError, match=f"data_info.csv: {message}"):
        read_release(tmp_path)


def test_duplicate_ids_and_missing_columns(tmp_path):
    write_release(tmp_path / "dup", [labelled_row("1", "Train", "A"), labelled_row("1", "Val", "B")], audio=False)
    with pytest.raises(DataError, match="row 2: duplicate File_ID '1' \\(first at row 1\\)"):
        read_release(tmp_path / "dup")
    header = [h for h in HEADER if h != "Surprise"]
    write_release(tmp_path / "cols", [labelled_row("1", "Train", "A")], header=header, audio=False)
    with pytest.raises(DataError, match="missing columns Surprise"):
        read_release(tmp_path / "cols")
    with pytest.raises(DataError, match="release folder is missing"):
        read_release(tmp_path / "nowhere")


def test_partially_blank_test_row_is_an_error_but_fully_blank_is_blinded(tmp_path):
    row = blank_row("5", "T")
    row["Age"] = "30"
    write_release(tmp_path, [row, blank_row("6", "T")], audio=False)
    problems = Problems(collect=True)
    corpus = read_release(tmp_path, problems=problems)
    assert len(problems.errors) == 1 and "partially blank labels on a Test row" in str(problems.errors[0])
    assert [c.file_id for c in corpus.clips] == ["6"]


def test_collecting_problems_reports_every_bad_row(tmp_path):
    rows = [labelled_row(str(i), "Train", "A") for i in range(4)]
    rows[0]["Awe"] = ""
    rows[2]["Country"] = "9"
    write_release(tmp_path, rows, audio=False)
    problems = Problems(collect=True)
    corpus = read_release(tmp_path, problems=problems)
    assert [str(p).split(": ", 1)[1].split(":")[0] for p in problems.errors] == ["row 1", "row 3"]
    assert [c.file_id for c in corpus.clips] == ["1", "3"]


def test_test_labels_file_fills_blinded_rows(tmp_path):
    root = small_release(tmp_path)
    write_release(tmp_path / "labels", [labelled_row(f"9{k}", "Test", "S9", age="31") for k in range(3)], audio=False)
    (tmp_path / "labels" / "data_info.csv").rename(root / "test_labels.csv")
    corpus = read_release(root, test_labels=True)
    assert all(c.labelled and c.age == 31.0 for c in corpus.split("Test"))
    with pytest.raises(DataError, match="test_labels.csv: file is missing"):
        read_release(small_release(tmp_path / "other"), test_labels=True)


def test_feature_csv(tmp_path):
    path = tmp_path / "1.csv"
    path.write_text("name,f1,f2\n'1',0.5,-2\n")
    assert read_feature_csv(path).tolist() == [0.5, -2.0]
    path.write_text("name,f1\n'1',abc\n")
    with pytest.raises(DataError, match="1.csv: non-numeric feature value"):
        read_feature_csv(path)
    with pytest.raises(DataError, match="2.csv: feature file is missing"):
        read_feature_csv(tmp_path / "2.csv")


def test_emotion_order_is_official():
    assert EMOTIONS[0] == "Awe" and EMOTIONS[-1] == "Surprise" and len(EMOTIONS) == 10
