"""Bag-of-audio-words over ComParE low-level descriptors (the release's openXBOW features), in JAX.

Per clip, openSMILE ComParE_2016 low-level descriptors [T, 65] (cached per clip, keyed like the
functionals); a codebook of `size` words by k-means (k-means++ seeding) on standardised descriptor frames
of the training split only; each clip becomes the relative frequency of its frames' nearest words [size].
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.atomic import atomic_path
from exvo_jax.features import opensmile_functionals
from exvo_jax.features.cache import AudioItem, FeatureCache, content_key
from exvo_jax.features.kmeans import kmeans, nearest
from exvo_jax.features.opensmile_functionals import OPENSMILE_VERSION
from exvo_jax.features.parallel import default_workers, parallel_map

BOAW_SIZES: tuple[int, ...] = (125, 250, 500, 1000, 2000)
LLD_SET = "ComParE"
MAX_CODEBOOK_FRAMES = 200_000  # frames sampled from the training split to fit the codebook


def boaw_size(feature_set: str) -> int | None:
    """`openXBOW/<size>` -> size; None for other feature sets."""
    prefix, _, size = feature_set.partition("/")
    if prefix != "openXBOW":
        return None
    if not size.isdigit() or int(size) < 1:
        raise ValueError(f"bad bag-of-audio-words set {feature_set!r} (expected openXBOW/<size>, e.g. openXBOW/125)")
    return int(size)


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def descriptors(items: Sequence[AudioItem], cache_dir: str | Path, *, workers: int | None = None,
                progress: bool = True) -> tuple[list[np.ndarray], list[str]]:
    """ComParE low-level descriptors [T, 65] per clip and their cache keys; cached as `lld/<id>.npz`."""
    root = Path(cache_dir) / "lld" / LLD_SET
    keys = [content_key(item.path, f"{LLD_SET}-lld", OPENSMILE_VERSION) for item in items]
    frames: list[np.ndarray | None] = []
    for item, key in zip(items, keys):
        path = root / f"{item.file_id}.npz"
        cached = None
        if path.exists():
            with np.load(path) as stored:
                if str(stored["key"]) == key:
                    cached = stored["lld"]
        frames.append(cached)
    todo = [n for n, f in enumerate(frames) if f is None]
    computed = parallel_map(opensmile_functionals.descriptors_job, [str(items[n].path) for n in todo],
                            workers if workers is not None else default_workers(), "ComParE descriptors", progress)
    for n, lld in zip(todo, computed):
        with atomic_path(root / f"{items[n].file_id}.npz") as tmp:
            tmp.write_bytes(_npz_bytes(key=np.array(keys[n]), lld=lld))
        frames[n] = lld
    return frames, keys


@dataclasses.dataclass(frozen=True)
class Codebook:
    """Descriptor standardisation (training frames) and the words [size, 65]."""

    mean: np.ndarray
    scale: np.ndarray
    words: np.ndarray

    def histograms(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """Relative word frequencies per clip: [N, size] (rows sum to 1; an empty clip gives zeros)."""
        size = self.words.shape[0]
        out = np.zeros((len(clips), size), np.float32)
        if not clips:
            return out
        lengths = np.array([len(c) for c in clips])
        stacked = (np.concatenate(clips) - self.mean) / self.scale  # [sum T, 65]
        words = np.asarray(nearest(jnp.asarray(stacked, jnp.float32), jnp.asarray(self.words)))
        owner = np.repeat(np.arange(len(clips)), lengths)
        np.add.at(out, (owner, words), 1.0)
        return (out / np.maximum(lengths, 1)[:, None]).astype(np.float32)


def fit_codebook(train: Sequence[np.ndarray], size: int, seed: int = 0,
                 max_frames: int = MAX_CODEBOOK_FRAMES) -> Codebook:
    """k-means codebook on (at most `max_frames` sampled) standardised training frames."""
    frames = np.concatenate(train).astype(np.float64)  # [sum T, 65]
    if frames.shape[0] < size:
        raise ValueError(f"codebook of {size} words needs at least {size} training frames, got {frames.shape[0]}")
    mean, std = frames.mean(0), frames.std(0)
    scale = np.where(std > 0, std, 1.0)
    rng = np.random.default_rng(seed)
    if frames.shape[0] > max_frames:
        frames = frames[rng.choice(frames.shape[0], max_frames, replace=False)]
    words = kmeans(jax.random.PRNGKey(seed), jnp.asarray((frames - mean) / scale, jnp.float32), size)
    return Codebook(mean.astype(np.float32), scale.astype(np.float32), np.asarray(words))


def boaw_features(splits: Mapping[str, Sequence[AudioItem]], size: int, cache_dir: str | Path, *,
                  train: str = "Train", workers: int | None = None, progress: bool = True) -> dict[str, np.ndarray]:
    """Bag-of-audio-words [N, size] for every split, with the codebook fit on `splits[train]` only.

    The codebook is cached under a key of the training clips' descriptor keys, so new training audio
    (or another openSMILE version) refits it.
    """
    llds = {name: descriptors(items, cache_dir, workers=workers, progress=progress) for name, items in splits.items()}
    digest = hashlib.blake2b("\n".join(llds[train][1]).encode(), digest_size=16).hexdigest()
    codebook_path = Path(cache_dir) / "boaw" / f"codebook-{size}-{digest}.npz"
    if codebook_path.exists():
        with np.load(codebook_path) as stored:
            codebook = Codebook(stored["mean"], stored["scale"], stored["words"])
    else:
        codebook = fit_codebook(llds[train][0], size)
        with atomic_path(codebook_path) as tmp:
            tmp.write_bytes(_npz_bytes(mean=codebook.mean, scale=codebook.scale, words=codebook.words))
    cache = FeatureCache(Path(cache_dir), f"openXBOW/{size}")
    out = {}
    for name, items in splits.items():
        ids = [item.file_id for item in items]
        keys = [f"{digest}|{key}" for key in llds[name][1]]
        packed = cache.read_packed(name, ids, keys)
        if packed is None:
            packed = codebook.histograms(llds[name][0])
            cache.write_packed(name, ids, keys, packed)
        out[name] = packed
    return out
