"""Synthetic corpus: release layout, label shape, audio format, determinism, argument checks and the CLI."""

from __future__ import annotations

import csv
import filecmp

import numpy as np
import pytest
import soundfile as sf

from exvo_jax.cli import main
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, read_release
from exvo_jax.data.schema import AGE_RANGE, COUNTRIES, EMOTIONS, REQUIRED_COLUMNS, SAMPLE_RATE
from exvo_jax.data.speakers import group_by_speaker, support_query
from exvo_jax.synth import format_summary, plan_corpus, write_corpus

SPEAKERS, CLIPS, SEED = 9, 4, 3


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    summary = write_corpus(root, speakers=SPEAKERS, clips_per_speaker=CLIPS, seed=SEED, progress=False)
    return root, summary


def _rows(path):
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_layout_reads_back_with_disjoint_splits(corpus_dir):
    root, summary = corpus_dir
    corpus = read_release(root, test_labels=True)
    speakers_of = {s: {c.speaker for c in corpus.split(s)} for s in ("Train", "Val", "Test")}
    assert all(speakers_of.values()), speakers_of
    assert not (speakers_of["Train"] & speakers_of["Val"])
    assert not (speakers_of["Train"] & speakers_of["Test"])
    assert not (speakers_of["Val"] & speakers_of["Test"])
    assert len(set().union(*speakers_of.values())) == SPEAKERS
    assert {s: len(corpus.split(s)) for s in summary.clips} == summary.clips
    assert sum(summary.countries.values()) == SPEAKERS == sum(summary.sexes.values())
    groups = group_by_speaker(corpus.clips)
    assert min(len(clips) for clips in groups.values()) >= 3
    assert sum(len(clips) for clips in groups.values()) >= SPEAKERS * 3
    assert all(len(e.query) >= 1 for e in support_query(corpus.split("Test"), shots=2))
    for clip in corpus.clips:
        assert clip.labelled
        assert AGE_RANGE[0] <= clip.age <= AGE_RANGE[1]
        assert 0 <= clip.country < len(COUNTRIES)
        assert np.count_nonzero(clip.emotions == 1.0) == 1, clip.file_id
        assert np.all((clip.emotions >= 0.0) & (clip.emotions <= 1.0))
    # Age and country are traits of the speaker.
    for clips in groups.values():
        assert len({(c.age, c.country) for c in clips}) == 1


def test_plan_has_hume_like_labels_and_demographics():
    plan = plan_corpus(speakers=400, clips_per_speaker=6, seed=1)
    emotions = np.stack([c.emotions for c in plan])  # [N, 10]
    assert np.all((emotions == 1.0).sum(axis=1) == 1)
    corr = np.corrcoef(emotions.T)
    index = {name: i for i, name in enumerate(EMOTIONS)}
    assert corr[index["Fear"], index["Horror"]] > corr[index["Fear"], index["Amusement"]] + 0.2
    assert corr[index["Amusement"], index["Excitement"]] > corr[index["Amusement"], index["Sadness"]] + 0.2
    assert 1.0 < np.mean((emotions > 0).sum(axis=1) - 1) < 4.5  # sparse blends: a few of the other nine
    people = {c.speaker.subject_id: c.speaker for c in plan}.values()
    shares = np.bincount([p.country for p in people], minlength=len(COUNTRIES)) / len(people)
    assert shares[COUNTRIES.index("United States")] == shares.max() and shares.min() > 0.08
    counts = np.bincount(np.unique([c.speaker.subject_id for c in plan], return_inverse=True)[1])
    assert counts.min() >= 3 and abs(counts.mean() - 6) < 0.3 and counts.max() > 6


def test_csv_columns_brackets_and_blinded_test(corpus_dir):
    root, _ = corpus_dir
    info, labels = _rows(root / DATA_INFO), _rows(root / TEST_LABELS)
    assert tuple(info[0]) == REQUIRED_COLUMNS == tuple(labels[0])
    assert tuple(info[0][5:]) == EMOTIONS
    for row in info[1:]:
        assert row[0].startswith("[") and row[0].endswith("]") and row[0][1:-1].isdigit(), row[0]
        assert (row[1] == "Test") == all(v == "" for v in row[3:]), row
        if row[1] != "Test":
            assert row[4] in {"0", "1", "2", "3"}
    test_rows = {row[0]: row for row in info[1:] if row[1] == "Test"}
    assert {row[0] for row in labels[1:]} == set(test_rows)
    for row in labels[1:]:
        assert row[1] == "Test" and row[2] == test_rows[row[0]][2] and all(v != "" for v in row[3:]), row


def test_audio_format_lengths_and_peak(corpus_dir):
    root, summary = corpus_dir
    corpus = read_release(root)
    lengths = []
    for clip in corpus.clips:
        info = sf.info(str(clip.wav_path))
        assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
        wave, _ = sf.read(str(clip.wav_path), dtype="int16")
        peak_db = 20 * np.log10(np.abs(wave.astype(np.int32)).max() / 32768.0)
        assert abs(peak_db - (-3.0)) < 0.1, (clip.file_id, peak_db)
        lengths.append(info.frames / SAMPLE_RATE)
    assert 0.5 <= min(lengths) and max(lengths) <= 5.0
    assert summary.clip_seconds == pytest.approx((min(lengths), np.mean(lengths), max(lengths)), abs=1e-3)
    assert len(list((root / "wav").glob("*.wav"))) == len(corpus.clips)


def test_same_arguments_give_identical_files_other_seed_differs(corpus_dir, tmp_path):
    root, _ = corpus_dir
    again = tmp_path / "again"
    write_corpus(again, speakers=SPEAKERS, clips_per_speaker=CLIPS, seed=SEED, progress=False)
    names = sorted(p.name for p in (root / "wav").iterdir())
    assert names == sorted(p.name for p in (again / "wav").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(root / "wav", again / "wav", names, shallow=False)
    assert (mismatch, errors) == ([], [])
    for name in (DATA_INFO, TEST_LABELS):
        assert (root / name).read_bytes() == (again / name).read_bytes()
    other = tmp_path / "other"
    write_corpus(other, speakers=SPEAKERS, clips_per_speaker=CLIPS, seed=SEED + 1, progress=False)
    assert (other / DATA_INFO).read_bytes() != (root / DATA_INFO).read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speakers": 2}, "speakers must be >= 3"),
        ({"clips_per_speaker": 2}, "clips_per_speaker must be >= 3"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"speakers": 4.5}, "speakers must be an integer"),
        ({"split_fractions": (0.5, 0.5, 0.0)}, "split_fractions must be three positive numbers"),
    ],
)
def test_invalid_arguments_raise(tmp_path, kwargs, message):
    args = {"speakers": 3, "clips_per_speaker": 3, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        write_corpus(tmp_path / "c", progress=False, **args)
    assert not (tmp_path / "c").exists()


def test_existing_corpus_needs_overwrite(tmp_path):
    write_corpus(tmp_path, speakers=3, clips_per_speaker=3, seed=0, progress=False)
    with pytest.raises(ValueError, match="already holds a corpus"):
        write_corpus(tmp_path, speakers=3, clips_per_speaker=3, seed=1, progress=False)
    (tmp_path / "wav" / "stale.wav").write_bytes(b"")
    summary = write_corpus(tmp_path, speakers=3, clips_per_speaker=3, seed=1, overwrite=True, progress=False)
    assert len(list((tmp_path / "wav").glob("*.wav"))) == sum(summary.clips.values())


def test_cli_writes_corpus_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["synth", "--out", str(out), "--speakers", "3", "--clips-per-speaker", "3", "--seed", "5",
                 "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Train" in printed and "clip length" in printed and "United States" in printed
    corpus = read_release(out, test_labels=True)
    assert len(corpus.clips) == 9
    summary = write_corpus(tmp_path / "api", speakers=3, clips_per_speaker=3, seed=5, progress=False)
    assert (tmp_path / "api" / DATA_INFO).read_bytes() == (out / DATA_INFO).read_bytes()
    assert format_summary(summary).splitlines()[1:4] == printed.splitlines()[1:4]


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    code = main(["synth", "--out", str(tmp_path / "x"), "--speakers", "2", "--no-progress"])
    assert code == 2
    assert "speakers must be >= 3" in capsys.readouterr().err
