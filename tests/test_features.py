"""Clip features: openSMILE functionals, the content-keyed cache (CSV and packed), official CSVs, scaling."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.data.audio import write_wav
from exvo_jax.data.errors import DataError
from exvo_jax.data.release import Clip, Corpus, read_feature_csv
from exvo_jax.features import corpus as corpus_module
from exvo_jax.features import parallel as parallel_module
from exvo_jax.features.cache import AudioItem
from exvo_jax.features.corpus import corpus_features, functionals
from exvo_jax.features.scaling import StandardScaler


def tone(seed: int, seconds: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t) + 0.02 * rng.normal(size=t.size)).astype(np.float32)


@pytest.fixture()
def clips(tmp_path) -> list[AudioItem]:
    items = []
    for i in range(3):
        path = tmp_path / "wav" / f"clip{i}.wav"
        write_wav(path, tone(i))
        items.append(AudioItem(f"clip{i}", path))
    return items


@pytest.fixture()
def counted(monkeypatch) -> list[str]:
    """Records every clip the extractor is actually run on."""
    calls: list[str] = []
    real = corpus_module._functionals_worker

    def worker(job):
        calls.append(Path(job[0]).stem)
        return real(job)

    monkeypatch.setattr(corpus_module, "_functionals_worker", worker)
    return calls


def test_egemaps_functionals_are_cached_in_the_release_csv_layout(clips, tmp_path, counted):
    cache = tmp_path / "cache"
    features = functionals(clips, "eGeMAPS", cache, progress=False)
    assert features.shape == (3, 88) and features.dtype == np.float32 and np.all(np.isfinite(features))
    assert not np.allclose(features[0], features[1])
    csv_path = cache / "feats" / "eGeMAPS" / "clip1.csv"
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header[0] == "name" and len(header) == 89
    key, *values = csv_path.read_text().splitlines()[1].split(",")
    np.testing.assert_array_equal(np.array(values, np.float32), features[1])
    with pytest.raises(DataError, match="written by the exvo_jax feature cache"):  # never taken for shipped CSVs
        read_feature_csv(csv_path)
    assert counted == ["clip0", "clip1", "clip2"]
    again = functionals(clips, "eGeMAPS", cache, progress=False)
    np.testing.assert_array_equal(again, features)
    assert counted == ["clip0", "clip1", "clip2"]  # nothing recomputed


def test_a_changed_audio_file_or_extractor_version_is_recomputed_never_served_stale(clips, tmp_path, counted, monkeypatch):
    cache = tmp_path / "cache"
    before = functionals(clips, "eGeMAPS", cache, pack="split", progress=False)
    write_wav(clips[2].path, tone(7))  # same name, new content
    after = functionals(clips, "eGeMAPS", cache, pack="split", progress=False)
    assert counted == ["clip0", "clip1", "clip2", "clip2"]
    np.testing.assert_array_equal(after[:2], before[:2])
    assert not np.allclose(after[2], before[2])
    monkeypatch.setattr(corpus_module, "OPENSMILE_VERSION", "99.0.0")
    functionals(clips, "eGeMAPS", cache, pack="split", progress=False)
    assert counted[4:] == ["clip0", "clip1", "clip2"]


def test_the_packed_cache_serves_a_whole_split_without_reading_csvs(clips, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    features = functionals(clips, "eGeMAPS", cache, pack="Train", progress=False)
    assert (cache / "packed" / "eGeMAPS" / "Train.npz").exists()
    for csv_path in (cache / "feats" / "eGeMAPS").glob("*.csv"):
        csv_path.unlink()
    monkeypatch.setattr(corpus_module, "_functionals_worker", lambda job: pytest.fail("recomputed"))
    np.testing.assert_array_equal(functionals(clips, "eGeMAPS", cache, pack="Train", progress=False), features)


def test_worker_processes_give_the_in_process_result(clips, tmp_path, monkeypatch):
    serial = functionals(clips, "eGeMAPS", tmp_path / "serial", workers=1, progress=False)
    monkeypatch.setattr(parallel_module, "MIN_PARALLEL_JOBS", 1)
    parallel = functionals(clips, "eGeMAPS", tmp_path / "parallel", workers=2, progress=False)
    np.testing.assert_array_equal(parallel, serial)


def test_official_release_csvs_are_read_when_every_clip_has_one(tmp_path, monkeypatch):
    clips = [Clip(f"{i}", "Train", "s1", 30.0, 0, np.zeros(10, np.float32), tmp_path / "wav" / f"{i}.wav") for i in range(2)]
    corpus = Corpus(tmp_path, tuple(clips))
    for i in range(2):
        path = corpus.feature_path("eGeMAPS", str(i))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("name," + ",".join(f"f{j}" for j in range(88)) + f"\n'{i}.wav'," + ",".join([str(i + 0.5)] * 88) + "\n")
    monkeypatch.setattr(corpus_module, "_functionals_worker", lambda job: pytest.fail("computed despite official CSVs"))
    features = corpus_features(corpus, clips, "eGeMAPS", tmp_path / "cache", pack="Train")
    np.testing.assert_array_equal(features, np.array([[0.5] * 88, [1.5] * 88], np.float32))
    # Without official CSVs and without audio, the error names the missing file.
    corpus.feature_path("eGeMAPS", "1").unlink()
    with pytest.raises(DataError, match=r"wav/0\.wav: file is missing"):
        corpus_features(corpus, clips, "eGeMAPS", tmp_path / "cache")
    with pytest.raises(DataError, match="cannot be computed here"):
        corpus_features(corpus, clips, "openXBOW/125", tmp_path / "cache")


def test_unknown_feature_sets_and_unreadable_audio_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    with pytest.raises(ValueError, match="unknown openSMILE feature set 'MFCC'"):
        functionals([AudioItem("bad", bad)], "MFCC", tmp_path)
    with pytest.raises(DataError, match="bad.wav: not a readable audio file"):
        functionals([AudioItem("bad", bad)], "eGeMAPS", tmp_path, progress=False)


def test_standard_scaler_uses_training_statistics_only():
    train = np.array([[1.0, 5.0], [3.0, 5.0]], np.float32)
    scaler = StandardScaler.fit(train)
    np.testing.assert_allclose(scaler.mean, [2.0, 5.0])
    np.testing.assert_allclose(scaler.scale, [1.0, 1.0])  # constant feature: scale 1, not 0
    np.testing.assert_allclose(scaler.transform(np.array([[4.0, 6.0]])), [[2.0, 1.0]])
    restored = StandardScaler.from_arrays(scaler.to_arrays())
    np.testing.assert_array_equal(restored.transform(train), scaler.transform(train))
    with pytest.raises(ValueError, match="fit on 2 features, got 3"):
        scaler.transform(np.zeros((1, 3)))


def test_kmeans_recovers_well_separated_clusters():
    from exvo_jax.features.kmeans import kmeans, kmeans_plus_plus, nearest

    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    x = np.concatenate([c + 0.3 * rng.normal(size=(50, 2)) for c in centres]).astype(np.float32)
    seeds = np.asarray(kmeans_plus_plus(jax.random.PRNGKey(0), jnp.asarray(x), 4))
    assert len({tuple(np.round(s)) for s in np.round(seeds / 10)}) == 4  # one seed per cluster
    words = np.asarray(kmeans(jax.random.PRNGKey(0), x, 4))
    assert np.max(np.min(np.linalg.norm(words[:, None] - centres[None], axis=-1), axis=0)) < 0.2
    labels = np.asarray(nearest(jnp.asarray(x), jnp.asarray(words), chunk=16))
    assert all(len(set(labels[i * 50:(i + 1) * 50])) == 1 for i in range(4))
    with pytest.raises(ValueError, match="at least k=5 rows"):
        kmeans(jax.random.PRNGKey(0), x[:4], 5)


def test_bag_of_audio_words_uses_a_training_only_codebook_and_frequency_histograms(clips, tmp_path):
    from exvo_jax.features.boaw import boaw_features, boaw_size

    splits = {"Train": clips[:2], "Val": clips[2:]}
    out = boaw_features(splits, 8, tmp_path / "cache", progress=False)
    assert out["Train"].shape == (2, 8) and out["Val"].shape == (1, 8)
    np.testing.assert_allclose(out["Train"].sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out["Val"].sum(1), 1.0, rtol=1e-6)
    assert len(list((tmp_path / "cache" / "boaw").glob("codebook-8-*.npz"))) == 1
    # The codebook depends on the training clips only: another Val clip leaves Train histograms unchanged.
    again = boaw_features({"Train": clips[:2], "Val": clips[:1]}, 8, tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(again["Train"], out["Train"])
    assert boaw_size("openXBOW/125") == 125 and boaw_size("ComParE") is None
    with pytest.raises(ValueError, match="openXBOW/<size>"):
        boaw_size("openXBOW/many")


def test_deepspectrum_front_end_is_a_viridis_mel_image():
    from exvo_jax.features.deepspectrum import mel_image

    image = mel_image(tone(0, seconds=1.0))
    assert image.shape == (224, 224, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    # viridis: dark purple for silence-level bins, yellow for the loudest; the 150 Hz tone is near the bottom rows.
    bottom, top = image[-40:].mean(axis=(0, 1)), image[:40].mean(axis=(0, 1))
    assert bottom[1] > top[1]  # more green/yellow where the energy is


def test_deepspectrum_runs_a_local_vgg19_npz_and_refuses_without_weights(clips, tmp_path, monkeypatch):
    from exvo_jax.features.deepspectrum import WEIGHTS_ENV, VGG19

    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(DataError, match="never downloaded"):
        corpus_module.deepspectrum_features(clips, tmp_path / "cache")
    with pytest.raises(DataError, match="missing.*never downloads"):
        corpus_module.deepspectrum_features(clips, tmp_path / "cache", weights=tmp_path / "absent.npz")
    # A slim VGG-19 (same 16 convolutions, 5 pools, fc6/fc7) with random weights stands in for ImageNet's.
    slim = VGG19(widths=(4, 4, 8, 8, 8), fc=16)
    params = jax.jit(slim.init)(jax.random.PRNGKey(0), jnp.zeros((1, 224, 224, 3)))["params"]
    weights = tmp_path / "vgg19.npz"
    np.savez(weights, **{f"{layer}/{kind}": np.asarray(v) for layer, p in params.items() for kind, v in p.items()})
    monkeypatch.setenv(WEIGHTS_ENV, str(weights))
    features = corpus_module.deepspectrum_features(clips, tmp_path / "cache", pack="Train")
    assert features.shape == (3, 16) and np.all(features >= 0)  # fc7 after ReLU
    assert not np.allclose(features[0], features[1])
    again = corpus_module.deepspectrum_features(clips, tmp_path / "cache", pack="Train")
    np.testing.assert_array_equal(again, features)
