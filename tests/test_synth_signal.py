"""The synthetic corpus carries learnable, speaker-dependent signal, and is not trivially separable.

eGeMAPSv02 functionals (openSMILE) with ridge models, evaluated on held-out speakers (5 speaker-disjoint
folds over a 60-speaker corpus): emotions reach a mean CCC of at least 0.3 yet stay below 0.7, age beats
the training-mean predictor, country beats chance (UAR >= 0.35), and a correction estimated from two
labelled clips per held-out speaker raises the CCC on that speaker's remaining clips.
Run with `-s` to see the numbers.
"""

from __future__ import annotations

import numpy as np
import opensmile
import pytest
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from exvo_jax.data.audio import load_audio
from exvo_jax.data.release import label_arrays, read_release
from exvo_jax.data.schema import EMOTIONS, NUM_COUNTRIES
from exvo_jax.metrics import ccc, mae, uar
from exvo_jax.synth import write_corpus

# One worker runs the whole module, so its module-scoped fixtures are built once (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("synth_signal")

SPEAKERS, CLIPS, SEED, FOLDS, SHOTS = 60, 6, 0, 5, 2


def _ridge(model):
    """Standardised features, clipped to +-4 (eGeMAPS coefficient-of-variation features have rare huge values)."""
    return make_pipeline(StandardScaler(), FunctionTransformer(np.clip, kw_args={"a_min": -4.0, "a_max": 4.0}), model)


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    """Out-of-fold predictions for every clip, each from models that never saw its speaker."""
    root = tmp_path_factory.mktemp("synth_signal")
    write_corpus(root, speakers=SPEAKERS, clips_per_speaker=CLIPS, seed=SEED, progress=False)
    clips = read_release(root, test_labels=True).clips
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                            feature_level=opensmile.FeatureLevel.Functionals)
    features = np.stack([smile.process_signal(load_audio(c.wav_path), 16_000).to_numpy()[0] for c in clips])  # [N, 88]
    labels = label_arrays(clips)
    speakers = np.array([c.speaker for c in clips])
    emotions = np.zeros_like(labels["emotions"])  # [N, 10]
    age, mean_age = np.zeros_like(labels["age"]), np.zeros_like(labels["age"])  # [N]
    country = np.zeros_like(labels["country"])  # [N]
    for train, test in GroupKFold(FOLDS).split(features, groups=speakers):
        emotions[test] = _ridge(Ridge(alpha=10.0)).fit(
            features[train], labels["emotions"][train]).predict(features[test])
        age[test] = _ridge(Ridge(alpha=300.0)).fit(features[train], labels["age"][train]).predict(features[test])
        mean_age[test] = labels["age"][train].mean()
        country[test] = _ridge(RidgeClassifier(alpha=100.0, class_weight="balanced")).fit(
            features[train], labels["country"][train]).predict(features[test])
    return {"labels": labels, "speakers": speakers, "emotions": emotions, "age": age, "mean_age": mean_age,
            "country": country}


def test_emotions_learnable_but_not_trivial(heldout):
    per_emotion = np.asarray(ccc(heldout["labels"]["emotions"], heldout["emotions"]))
    mean = float(per_emotion.mean())
    print(f"\nheld-out emotion CCC {mean:.3f}: " + ", ".join(f"{e} {v:.2f}" for e, v in zip(EMOTIONS, per_emotion)))
    assert 0.3 <= mean <= 0.7
    assert np.all(per_emotion > 0.0)


def test_age_beats_mean_predictor(heldout):
    model = float(mae(heldout["labels"]["age"], heldout["age"]))
    baseline = float(mae(heldout["labels"]["age"], heldout["mean_age"]))
    print(f"\nheld-out age MAE {model:.2f} years (training-mean predictor {baseline:.2f})")
    assert model < baseline - 0.1


def test_country_beats_chance(heldout):
    score = float(uar(heldout["labels"]["country"], heldout["country"], NUM_COUNTRIES))
    print(f"\nheld-out country UAR {score:.3f} (chance 0.25)")
    assert 0.35 <= score <= 0.9


def test_two_clip_speaker_correction_raises_query_ccc(heldout):
    """Subtracting each held-out speaker's mean residual on their first two clips helps on the rest."""
    truth, predicted = heldout["labels"]["emotions"], heldout["emotions"]
    corrected, query = predicted.copy(), np.ones(len(truth), bool)
    for speaker in np.unique(heldout["speakers"]):
        rows = np.flatnonzero(heldout["speakers"] == speaker)  # file order
        support, rest = rows[:SHOTS], rows[SHOTS:]
        corrected[rest] -= (predicted[support] - truth[support]).mean(axis=0)
        query[support] = False
    plain = float(np.mean(ccc(truth[query], predicted[query])))
    adapted = float(np.mean(ccc(truth[query], corrected[query])))
    print(f"\nquery-clip emotion CCC {plain:.3f} -> {adapted:.3f} with the 2-clip correction (+{adapted - plain:.3f})")
    assert adapted > plain + 0.03
