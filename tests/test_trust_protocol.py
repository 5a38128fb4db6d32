"""Results that can be trusted: one feature extractor per run, and a synthetic country signal in the voice.

Shipped feature CSVs for some splits and not others would mix two extractors (the release's and ours)
between training and scoring, so the multitask data loader refuses them unless every split is recomputed.

On the synthetic corpus, country must be learnt from the voice and the bursts, not read off the recording
channel: a classifier on channel statistics alone stays near chance on held-out speakers, and a classifier
on the clip's eGeMAPS functionals does clearly better. Run with `-s` to see the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import read_release
from exvo_jax.data.schema import NUM_COUNTRIES, SAMPLE_RATE
from exvo_jax.features.cache import AudioItem
from exvo_jax.features.corpus import functionals
from exvo_jax.features.opensmile_functionals import feature_names, smile
from exvo_jax.metrics import uar
from exvo_jax.synth import write_corpus
from exvo_jax.synth.corpus import plan_corpus, synthesise
from exvo_jax.tracks.multitask.config import default_config
from exvo_jax.tracks.multitask.data import load_data

SPEAKERS, CLIPS, SEED, FOLDS, CLIP_SECONDS = 56, 3, 0, 5, 2.0
MAX_CHANNEL_UAR, MIN_VOICE_MARGIN = 0.40, 0.1


def _ship_csvs(corpus, split: str, value: float) -> None:
    """Writes `feats/eGeMAPS/<id>.csv` (the release's format, every feature = `value`) for the clips of `split`."""
    header = "name," + ",".join(feature_names("eGeMAPS"))
    for clip in corpus.split(split):
        path = corpus.feature_path("eGeMAPS", clip.file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{header}\n'{clip.file_id}.wav'," + ",".join([str(value)] * 88) + "\n")


def test_shipped_features_for_some_splits_only_are_refused_unless_all_are_recomputed(tmp_path):
    root = tmp_path / "release"
    write_corpus(root, speakers=3, clips_per_speaker=3, seed=0, progress=False)
    corpus = read_release(root)
    config = default_config()
    config.update(data_dir=str(root), feature_set="eGeMAPS", workers=1, cache_dir=str(tmp_path / "cache"))
    _ship_csvs(corpus, "Train", 7.0)
    with pytest.raises(DataError, match=r"feats/eGeMAPS: shipped eGeMAPS CSVs cover every clip of Train but not of "
                                        r"Val, Test; .*recompute_features=True"):
        load_data(config, tmp_path / "run")

    config.recompute_features = True
    data = load_data(config, tmp_path / "run")
    audio = {name: functionals([AudioItem(c.file_id, c.wav_path) for c in corpus.split(name)], "eGeMAPS",
                               tmp_path / "reference", workers=1, progress=False) for name in ("Train", "Val", "Test")}
    for split, name in ((data.train, "Train"), (data.val, "Val"), (data.test, "Test")):
        np.testing.assert_array_equal(split.features, audio[name])  # every split from audio, CSVs ignored

    # Shipped for every split: the CSVs are used, unless recomputing is asked for.
    _ship_csvs(corpus, "Val", 7.0)
    _ship_csvs(corpus, "Test", 7.0)
    np.testing.assert_array_equal(load_data(config, tmp_path / "run").train.features, audio["Train"])
    config.recompute_features = False
    assert np.all(load_data(config, tmp_path / "run").train.features == 7.0)


def channel_statistics(wave: np.ndarray) -> np.ndarray:
    """[6] log energies that describe the recording channel rather than the voice.

    Mains hum at 50 and at 60 Hz (each against the band just below it), and the clip's energy share in
    5-6, 6-7 and 7-8 kHz (the low-pass band limit) and below 45 Hz (high-pass and noise floor).
    """
    freqs, _, spec = signal.stft(wave, SAMPLE_RATE, nperseg=4096, noverlap=2048)  # 3.9 Hz bins
    power = np.mean(np.abs(spec) ** 2, axis=1)  # [F]

    def band(low: float, high: float) -> float:
        return float(power[(freqs >= low) & (freqs < high)].sum()) + 1e-20

    hum = [np.log(band(hz - 3, hz + 3) / band(hz - 12, hz - 4)) for hz in (50, 60)]
    high = [np.log(band(low, low + 1000) / band(0, SAMPLE_RATE)) for low in (5000, 6000, 7000)]
    return np.array([*hum, *high, np.log(band(20, 45) / band(0, SAMPLE_RATE))])


@pytest.fixture(scope="module")
def country_cues():
    """Channel statistics and eGeMAPS functionals of 2 s synthetic clips (56 speakers x 3), with country and speaker."""
    plan = plan_corpus(speakers=SPEAKERS, clips_per_speaker=CLIPS, seed=SEED)
    waves = [synthesise(clip, SEED)[: int(CLIP_SECONDS * SAMPLE_RATE)] for clip in plan]
    extractor = smile("eGeMAPS")
    return {
        "channel": np.stack([channel_statistics(w) for w in waves]),  # [N, 6]
        "egemaps": np.stack([extractor.process_signal(w, SAMPLE_RATE).to_numpy()[0] for w in waves]),  # [N, 88]
        "country": np.array([clip.speaker.country for clip in plan]),  # [N]
        "speakers": np.array([clip.speaker.subject_id for clip in plan]),  # [N]
    }


def heldout_country_uar(features: np.ndarray, cues: dict) -> float:
    """Country UAR over all clips, each predicted by a logistic regression that never saw its speaker."""
    predicted = np.zeros_like(cues["country"])
    for train, test in GroupKFold(FOLDS).split(features, groups=cues["speakers"]):
        model = make_pipeline(StandardScaler(), FunctionTransformer(np.clip, kw_args={"a_min": -4.0, "a_max": 4.0}),
                              LogisticRegression(C=0.1, max_iter=2000, class_weight="balanced"))
        predicted[test] = model.fit(features[train], cues["country"][train]).predict(features[test])
    return float(uar(cues["country"], predicted, NUM_COUNTRIES))


def test_channel_statistics_alone_do_not_reveal_country(country_cues):
    score = heldout_country_uar(country_cues["channel"], country_cues)
    print(f"\nheld-out country UAR from channel statistics {score:.3f} (chance 0.25)")
    assert score < MAX_CHANNEL_UAR


def test_voice_features_reveal_country_well_above_the_channel(country_cues):
    """The multitask model's inputs (eGeMAPS functionals) against the channel statistics, same speaker folds.

    A logistic regression on the standardised functionals stands in for the network's country head: it
    is what the features make linearly available, deterministic and trained in milliseconds (the network
    itself is trained on the synthetic corpus in test_multitask_learning.py).
    """
    voice = heldout_country_uar(country_cues["egemaps"], country_cues)
    channel = heldout_country_uar(country_cues["channel"], country_cues)
    print(f"\nheld-out country UAR from eGeMAPS {voice:.3f}, from channel statistics {channel:.3f}")
    assert voice >= channel + MIN_VOICE_MARGIN
