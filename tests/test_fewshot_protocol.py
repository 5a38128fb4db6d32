"""The few-shot evaluation protocol: which clips are support, what Table 4 scores, which speakers it reports on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from exvo_jax.data.errors import DataError
from exvo_jax.metrics import ccc
from exvo_jax.tracks.fewshot import prediction as predict
from exvo_jax.tracks.fewshot.inference import speaker_tasks, support_rule
from exvo_jax.tracks.fewshot.report import score_row, submitted, table_header
from exvo_jax.recognition.protocol import HELDOUT, SELECT, protocol_splits


def clips(spec: str, split: str = "Val"):
    """'AABAB' -> labelled clips of speakers A, A, B, A, B with ids 0..4."""
    return [SimpleNamespace(file_id=str(i), speaker=s, split=split, labelled=True) for i, s in enumerate(spec)]


def test_labelled_support_is_the_labelled_clips_whatever_their_order():
    items = clips("AAAABBB")
    targets = np.full((7, 2), np.nan, np.float32)
    targets[[2, 3, 4, 6]] = np.arange(8, dtype=np.float32).reshape(4, 2)  # support released for clips 2, 3, 4, 6
    features = [np.full((1, 3), i, np.float32) for i in range(7)]
    assert support_rule(targets) == "labelled"
    tasks, query = speaker_tasks(items, features, targets, shots=2, support=support_rule(targets))
    assert query == [[0, 1], [5]]
    assert [float(f[0, 0]) for f in tasks[0].support] == [2.0, 3.0]
    np.testing.assert_array_equal(tasks[1].targets, targets[[4, 6]])
    assert tasks[0].query_targets is None and [float(f[0, 0]) for f in tasks[1].query] == [5.0]
    with pytest.raises(DataError, match="support clip\\(s\\) 0, 1 have no labels"):
        speaker_tasks(items, features, targets, shots=2, support="first")


def test_first_support_stays_where_every_clip_is_labelled():
    items = clips("AAABB")
    targets = np.arange(10, dtype=np.float32).reshape(5, 2)
    assert support_rule(targets) == "first"
    tasks, query = speaker_tasks(items, [np.zeros((1, 3))] * 5, targets, shots=2, support=support_rule(targets))
    assert query == [[2], []]
    np.testing.assert_array_equal(tasks[0].query_targets, targets[[2]])


def test_table_scores_the_clipped_predictions_that_are_submitted():
    rng = np.random.default_rng(0)
    truth = rng.uniform(size=(40, 3)).astype(np.float32)
    raw = (truth + rng.normal(0.0, 0.6, size=truth.shape)).astype(np.float32)  # well outside [0, 1] in places
    clipped = np.clip(raw, 0.0, 1.0)
    assert raw.min() < 0 and raw.max() > 1
    np.testing.assert_array_equal(submitted(raw), clipped)
    row = score_row("m", "s", "Val", ["a", "b", "c"], truth, raw)
    assert row["mean_ccc"] == pytest.approx(float(np.mean(ccc(truth, clipped))), abs=1e-6)
    assert row["mean_ccc"] != pytest.approx(float(np.mean(ccc(truth, raw))), abs=1e-3)
    assert predict.submitted is submitted  # the submission is written through the same function


def test_without_test_labels_table4_reports_on_val_speakers_held_out_from_every_choice():
    corpus = SimpleNamespace(split=lambda name: {"Train": clips("TTUU", "Train"),
                                                 "Val": clips("ABCDEFGHABCDEFGH"), "Test": ()}[name])
    splits, select, report = protocol_splits(corpus, with_test=False)
    assert (select, report) == (SELECT, HELDOUT) and set(splits) == {"Train", SELECT, HELDOUT}
    chosen, held = ({c.speaker for c in splits[name]} for name in (SELECT, HELDOUT))
    assert chosen.isdisjoint(held) and len(chosen) == len(held) == 4
    assert len(splits[SELECT]) + len(splits[HELDOUT]) == 16
    again, _, _ = protocol_splits(corpus, with_test=False)
    assert [c.file_id for c in again[HELDOUT]] == [c.file_id for c in splits[HELDOUT]]
    assert "held out from every choice" in table_header("H=16", report, select, 2, held_out=True)
    assert protocol_splits(corpus, with_test=True)[1:] == ("Val", "Test")
