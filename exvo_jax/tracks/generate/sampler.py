"""Sampling from trained mel GANs: log-mels and 16 kHz waveforms per emotion, always from the EMA weights.

A `Sampler` holds the EMA generator weights of a run's models (stacked, one per emotion, or one conditional
model) and the geometry they were trained on. It is built from a live training state (previews) or from
the exported model of a workdir (`load_sampler`), so previews and `exvo-jax generate sample` share one path.
Emotion e draws its latents and Griffin-Lim phases from `fold_in(key, index of e)`: a clip is the same
whether one emotion or all are sampled. A conditional model conditions emotion e with row e of the sampling
vectors recorded in its metadata (`exvo_jax.tracks.generate.condition.emotion_conditions`); metadata without
them (exported before they were recorded) gets the one-hot rows, as a hard-conditioned model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax.data.audio import peak_normalise
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import EMOTIONS, NUM_EMOTIONS
from exvo_jax.features.logmel import MelGeometry
from exvo_jax.tracks.generate.condition import one_hots
from exvo_jax.tracks.generate.data import CONDITIONAL
from exvo_jax.tracks.generate.program import generate
from exvo_jax.tracks.generate.config import GenerateSettings
from exvo_jax.inversion import mel_to_audio
from exvo_jax.models.msg_gan import MSGGAN, msg_gan
from exvo_jax.run import import_model
from exvo_jax.submission.writers import write_generated_clips

GENERATE_BATCH = 100  # clips per generator / inversion call


@dataclasses.dataclass(frozen=True)
class Sampler:
    """EMA weights of a run's models: `ema_params` stacked over `names` (emotions, or the one conditional model)."""

    gan: MSGGAN
    ema_params: dict
    names: tuple[str, ...]
    geometry: MelGeometry
    conditions: np.ndarray | None = None  # [10, 10]: row e conditions emotion e (conditional); None: the one-hots

    @property
    def emotions(self) -> tuple[str, ...]:
        """The emotions this run can generate."""
        return EMOTIONS if self.names == (CONDITIONAL,) else self.names

    def _model(self, emotion: str):
        if emotion not in self.emotions:
            raise DataError(f"no model for {emotion!r} in this run (it has {', '.join(self.emotions)})")
        s = 0 if self.names == (CONDITIONAL,) else self.names.index(emotion)
        return jax.tree.map(lambda x: x[s], self.ema_params)

    def mels(self, emotion: str, n: int, key: jax.Array) -> np.ndarray:
        """`[n, n_mels, frames]` log-mels of `emotion` (a conditional model gets its row of `conditions`)."""
        params, parts, e = self._model(emotion), [], EMOTIONS.index(emotion)
        rows = one_hots() if self.conditions is None else self.conditions
        key = jax.random.fold_in(jax.random.fold_in(key, e), 0)
        for start in range(0, n, GENERATE_BATCH):
            size = min(GENERATE_BATCH, n - start)
            z = jax.random.normal(jax.random.fold_in(key, start), (size, self.gan.generator.latent_size))
            condition = jnp.asarray(rows[[e] * size]) if self.gan.generator.num_classes else None
            parts.append(np.asarray(generate(self.gan, params, z, condition)))
        return np.concatenate(parts)

    def waves(self, emotion: str, n: int, key: jax.Array) -> np.ndarray:
        """`[n, frames * hop]` float32 waveforms at -3 dBFS peak: NNLS + Griffin-Lim of `mels`."""
        mels, waves = self.mels(emotion, n, key), []
        for start in range(0, n, GENERATE_BATCH):
            chunk = mels[start:start + GENERATE_BATCH]
            phase = jax.random.fold_in(jax.random.fold_in(key, EMOTIONS.index(emotion)), 1)
            keys = jax.random.wrap_key_data(jax.random.split(jax.random.fold_in(phase, start), len(chunk)))
            waves.extend(np.asarray(mel_to_audio(jnp.asarray(chunk), keys, self.geometry)))
        return np.stack([peak_normalise(w) for w in waves])


def model_meta(settings: GenerateSettings, names: tuple[str, ...], step: int, *, conditions: np.ndarray | None = None) -> dict:
    """What `load_sampler` needs to rebuild the generator (the exported model's metadata).

    `conditions`: a conditional run's `[10, 10]` sampling vectors (`emotion_conditions`), required for one.
    """
    meta = {
        "track": "generate",
        "names": list(names),
        "model": {"depth": settings.model.depth, "latent_size": settings.model.latent_size,
                  "channels": list(settings.model.channels),
                  "num_classes": NUM_EMOTIONS if names == (CONDITIONAL,) else 0},
        "mel": {"n_mels": settings.mel.n_mels, "hop": settings.mel.hop, "frames": settings.mel.frames},
        "condition": settings.condition,
        "step": int(step),
    }
    if names == (CONDITIONAL,):
        if conditions is None:
            raise ValueError("a conditional run's metadata needs its per-emotion sampling vectors")
        meta["emotion_conditions"] = np.asarray(conditions, np.float32).tolist()
    return meta


def sampler_from(meta: dict, ema_params) -> Sampler:
    spec = meta["model"]
    gan = msg_gan(depth=spec["depth"], latent_size=spec["latent_size"], channels=tuple(spec["channels"]) or None,
                  num_classes=spec["num_classes"])
    conditions = meta.get("emotion_conditions")
    return Sampler(gan=gan, ema_params=ema_params, names=tuple(meta["names"]), geometry=MelGeometry(**meta["mel"]),
                   conditions=None if conditions is None else np.asarray(conditions, np.float32))


def load_sampler(workdir: str | Path) -> Sampler:
    """The EMA generators exported by `exvo-jax generate train` in `workdir`."""
    arrays, meta = import_model(workdir, command="exvo-jax generate train")
    if meta.get("track") != "generate":
        raise DataError(f"{workdir}: the exported model is not a Generate-track model")
    return sampler_from(meta, jax.tree.map(jnp.asarray, arrays["ema_params"]))


def write_submission(workdir: str | Path, out: str | Path, emotions: Sequence[str] | None, n: int,
                     seed: int = 0) -> list[Path]:
    """Writes `<out>/<Emotion>/<Emotion>_<k>.wav`, k < n, for `emotions` (None: all the run has)."""
    if n < 1:
        raise DataError(f"--n must be >= 1, got {n}")
    sampler = load_sampler(workdir)
    emotions = sampler.emotions if emotions is None else tuple(emotions)
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise DataError(f"unknown emotion {unknown[0]!r} (expected one of {', '.join(EMOTIONS)})")
    key, paths = jax.random.PRNGKey(seed), []
    for emotion in dict.fromkeys(emotions):
        paths += write_generated_clips(out, {emotion: list(sampler.waves(emotion, n, key))}, clips_per_emotion=n)
    return paths
