"""`exvo-jax check`: every problem of a release folder, found at once by default, the first error with --first."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from exvo_jax.cli import main
from exvo_jax.data.check import check_release
from tests.support.release_factory import blank_row, labelled_row, small_release, tone, write_release


def test_clean_release_passes(tmp_path, capsys):
    root = small_release(tmp_path)
    report = check_release(root, progress=False)
    assert report.ok and not report.warnings
    assert main(["check", str(root)]) == 0
    assert "12 clips, 4 speakers (Train 6, Val 3, Test 3)" in capsys.readouterr().out


def test_every_problem_is_reported_by_default(tmp_path, capsys):
    rows = [labelled_row(f"{k}", "Train", "A") for k in range(6)]
    rows[1]["Fear"] = "nan"
    rows += [labelled_row("v1", "Val", "V")]  # one clip only: few-shot needs 2
    rows += [blank_row("t1", "T"), blank_row("t2", "T")]
    root = write_release(tmp_path, rows)
    (root / "wav" / "2.wav").unlink()
    (root / "wav" / "3.wav").write_bytes(b"")
    (root / "wav" / "4.wav").write_text("garbage")
    sf.write(root / "wav" / "5.wav", np.zeros(1600, np.float32), 16_000, subtype="PCM_16")
    sf.write(root / "wav" / "t1.wav", np.stack([tone(), tone()], 1), 22_050, subtype="PCM_16")

    report = check_release(root, progress=False)
    messages = [str(p) for p in report.errors]
    expected = [
        "row 2: NaN or empty labels on a Train row: Fear",
        "speaker 'V' (Val): has 1 clip(s) (v1); the few-shot protocol needs 2",
        "2.wav: audio file is missing",
        "3.wav: audio file is empty (0 bytes)",
        "4.wav: not a readable audio file",
        "5.wav: audio is silent",
    ]
    for text in expected:
        assert sum(text in m for m in messages) == 1, (text, messages)
    assert len(messages) == len(expected)
    warnings = [str(p) for p in report.warnings]
    assert any("t1.wav: wrong sample rate 22050 Hz" in w for w in warnings)
    assert any("t1.wav: 2 channels" in w for w in warnings)
    assert len(check_release(root, strict=True, progress=False).errors) == len(expected) + 2

    assert main(["check", str(root), "--report", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    assert "6 error(s), 2 warning(s)" in out and "warning: " in out
    assert len(json.loads((tmp_path / "r.json").read_text())) == 8
    assert main(["check", str(root), "--all"]) == 1  # still accepted: the default
    assert "6 error(s), 2 warning(s)" in capsys.readouterr().out
    assert main(["check", str(root), "--first"]) == 2  # stops at the first error
    assert "row 2: NaN or empty labels" in capsys.readouterr().err


def test_unreadable_release_is_one_problem(tmp_path):
    report = check_release(tmp_path / "missing", progress=False)
    assert not report.ok and "release folder is missing" in str(report.errors[0])


def test_synthetic_corpus_passes_the_check(synthetic_corpus, capsys):
    assert main(["check", str(synthetic_corpus)]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out


def test_check_reads_a_nonverbal_corpus_and_names_every_bad_clip(tmp_path, capsys):
    from tests.support.nonverbal_layout import write_nonverbal_layout

    corpus = write_nonverbal_layout(tmp_path / "corpus")
    assert main(["check", str(corpus)]) == 0
    assert "100 clips, 20 speakers" in capsys.readouterr().out
    garbage = sorted(corpus.glob("*/*.wav"))[0]
    garbage.write_bytes(b"not audio at all")
    report = tmp_path / "problems.json"
    assert main(["check", str(corpus), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert f"error: {garbage}: " in out and "1 error(s)" in out
    assert [p["where"] for p in json.loads(report.read_text())] == [str(garbage)]
