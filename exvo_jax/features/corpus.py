"""Features of a whole corpus: cached, computed in parallel worker processes, or the CSVs a release ships."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from exvo_jax.data.errors import DataError
from exvo_jax.data.release import Clip, Corpus, read_feature_csv
from exvo_jax.data.schema import SPLITS
from exvo_jax.features import deepspectrum, opensmile_functionals
from exvo_jax.features.boaw import boaw_features, boaw_size
from exvo_jax.features.cache import AudioItem, FeatureCache, content_hash, content_key
from exvo_jax.features.opensmile_functionals import FUNCTIONAL_SETS, OPENSMILE_VERSION
from exvo_jax.features.opensmile_functionals import functionals_job as _functionals_worker
from exvo_jax.features.parallel import default_workers, parallel_map


def functionals(
    items: Sequence[AudioItem],
    feature_set: str,
    cache_dir: str | Path,
    *,
    pack: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """openSMILE functionals [N, D] of `items`, reusing every cache entry whose key still matches.

    `pack` names a packed .npz of the whole list, read back in one go on the next call.
    """
    if feature_set not in FUNCTIONAL_SETS:
        raise ValueError(f"unknown openSMILE feature set {feature_set!r} (expected one of {', '.join(FUNCTIONAL_SETS)})")
    cache = FeatureCache(Path(cache_dir), feature_set)
    ids = [item.file_id for item in items]
    keys = [content_key(item.path, feature_set, OPENSMILE_VERSION) for item in items]
    if pack is not None and (packed := cache.read_packed(pack, ids, keys)) is not None:
        return packed
    rows: list[np.ndarray | None] = [cache.read_row(i, k) for i, k in zip(ids, keys)]
    todo = [n for n, row in enumerate(rows) if row is None]
    computed = parallel_map(
        _functionals_worker,
        [(str(items[n].path), feature_set) for n in todo],
        workers if workers is not None else default_workers(),
        desc=f"{feature_set} functionals",
        progress=progress,
    )
    names = opensmile_functionals.feature_names(feature_set) if todo else []
    for n, vector in zip(todo, computed):
        cache.write_row(items[n], keys[n], names, vector)
        rows[n] = vector
    features = np.stack(rows) if rows else np.zeros((0, len(opensmile_functionals.feature_names(feature_set))), np.float32)
    if pack is not None:
        cache.write_packed(pack, ids, keys, features)
    return features


def deepspectrum_features(items: Sequence[AudioItem], cache_dir: str | Path, *, weights: str | Path | None = None,
                          pack: str | None = None) -> np.ndarray:
    """DeepSpectrum fc7 features [N, 4096], cached like the functionals under keys naming the weights file."""
    weights = deepspectrum.weights_path(weights)
    version = f"vgg19-{content_hash(weights)[:12]}"
    cache = FeatureCache(Path(cache_dir), "DeepSpectrum")
    ids = [item.file_id for item in items]
    keys = [content_key(item.path, "DeepSpectrum", version) for item in items]
    if pack is not None and (packed := cache.read_packed(pack, ids, keys)) is not None:
        return packed
    rows: list[np.ndarray | None] = [cache.read_row(i, k) for i, k in zip(ids, keys)]
    todo = [n for n, row in enumerate(rows) if row is None]
    computed = deepspectrum.deepspectrum([items[n].path for n in todo], weights) if todo else []
    for n, vector in zip(todo, computed):
        cache.write_row(items[n], keys[n], [f"fc7_{j}" for j in range(len(vector))], vector)
        rows[n] = vector
    features = np.stack(rows)
    if pack is not None:
        cache.write_packed(pack, ids, keys, features)
    return features


def official_features(corpus: Corpus, clips: Sequence[Clip], feature_set: str, cache_dir: str | Path,
                      pack: str | None = None, progress: bool = True) -> np.ndarray:
    """The release's own `feats/<Set>/<id>.csv` [N, D], packed under keys of the CSV files' contents."""
    cache = FeatureCache(Path(cache_dir), f"official/{feature_set}")
    ids = [c.file_id for c in clips]
    paths = [corpus.feature_path(feature_set, c.file_id) for c in clips]
    keys = [f"{feature_set}|official|{content_hash(p)}" for p in paths]
    if pack is not None and (packed := cache.read_packed(pack, ids, keys)) is not None:
        return packed
    features = np.stack([read_feature_csv(p) for p in tqdm(paths, desc=f"{feature_set} CSVs", leave=False,
                                                                       disable=not progress)])
    if pack is not None:
        cache.write_packed(pack, ids, keys, features)
    return features


def has_official(corpus: Corpus, clips: Sequence[Clip], feature_set: str) -> bool:
    return bool(clips) and all(corpus.feature_path(feature_set, c.file_id).exists() for c in clips)


def computed_features(
    corpus: Corpus,
    clips: Sequence[Clip],
    feature_set: str,
    cache_dir: str | Path,
    *,
    pack: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features [N, D] of release clips computed from their audio with the built-in extractors.

    openSMILE functionals are computed in worker processes; DeepSpectrum needs local VGG-19 weights
    (`EXVO_VGG19_WEIGHTS`); bags of audio words need the whole release (see `release_features`).
    """
    if feature_set in FUNCTIONAL_SETS:
        items = [AudioItem(c.file_id, c.wav_path) for c in clips]
        return functionals(items, feature_set, cache_dir, pack=pack, workers=workers, progress=progress)
    if feature_set == "DeepSpectrum":
        return deepspectrum_features([AudioItem(c.file_id, c.wav_path) for c in clips], cache_dir, pack=pack)
    raise DataError(
        f"{corpus.root / 'feats' / feature_set}: no precomputed {feature_set} features for these clips, "
        f"and they cannot be computed here"
    )


def corpus_features(
    corpus: Corpus,
    clips: Sequence[Clip],
    feature_set: str,
    cache_dir: str | Path,
    *,
    pack: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features [N, D] of release clips: shipped CSVs when every clip has one, else computed from audio."""
    if has_official(corpus, clips, feature_set):
        return official_features(corpus, clips, feature_set, cache_dir, pack, progress)
    return computed_features(corpus, clips, feature_set, cache_dir, pack=pack, workers=workers, progress=progress)


def release_features(corpus: Corpus, feature_set: str, cache_dir: str | Path, *, recompute_features: bool = False,
                     workers: int | None = None, progress: bool = True) -> dict[str, np.ndarray]:
    """Features [N, D] of every non-empty split of a release, by split name, all from one extractor.

    Shipped CSVs are used when every clip of every split has one. A release that ships them for some
    splits only is a `DataError` naming the splits with and without them: the shipped features and
    the built-in extractor's differ (openSMILE version, configuration), so a model would be trained on
    one and scored on the other. `recompute_features` computes every split from audio instead, shipped
    CSVs or not. Bags of audio words (`openXBOW/<size>`) are computed with a codebook fit on Train.
    """
    splits = {name: clips for name in SPLITS if (clips := corpus.split(name))}
    shipped = {name: has_official(corpus, clips, feature_set) for name, clips in splits.items()}
    if not recompute_features and any(shipped.values()) and not all(shipped.values()):
        have = ", ".join(name for name, ok in shipped.items() if ok)
        lack = ", ".join(name for name, ok in shipped.items() if not ok)
        raise DataError(
            f"{corpus.root / 'feats' / feature_set}: shipped {feature_set} CSVs cover every clip of {have} but "
            f"not of {lack}; features from two extractors would be mixed - ship them for every split, or "
            f"recompute every split from audio (recompute_features=True)"
        )
    if not recompute_features and all(shipped.values()):
        return {name: official_features(corpus, clips, feature_set, cache_dir, pack=name, progress=progress)
                for name, clips in splits.items()}
    if boaw_size(feature_set) is not None:
        items = {name: [AudioItem(c.file_id, c.wav_path) for c in clips] for name, clips in splits.items()}
        return boaw_features(items, boaw_size(feature_set), cache_dir, workers=workers, progress=progress)
    return {name: computed_features(corpus, clips, feature_set, cache_dir, pack=name, workers=workers,
                                    progress=progress)
            for name, clips in splits.items()}
