"""DeepSpectrum features: VGG-19 (ImageNet) fc7 activations of a viridis-coloured mel-spectrogram image.

Front end: 128-band power mel spectrogram in dB (relative to the clip's maximum, floor -80 dB), normalised
to [0, 1], low frequencies at the bottom, coloured with matplotlib's viridis map and resized to 224 x 224 RGB.
Network: VGG-19 in Flax (16 3x3 convolutions in five blocks, 2x2 max pooling, fc6 and fc7 of 4096 units,
ReLU), ImageNet "caffe" preprocessing (BGR, mean subtracted, 0-255 scale); the feature is fc7 after ReLU.

Weights are never downloaded: they are read from a local .npz (`EXVO_VGG19_WEIGHTS` or an explicit path)
holding `conv<b>_<i>/kernel` [3, 3, in, out], `conv<b>_<i>/bias`, `fc6/kernel` [25088, 4096], `fc6/bias`,
`fc7/kernel`, `fc7/bias`; without them extraction stops with a `DataError` saying so.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import librosa
import matplotlib
import numpy as np
import scipy.ndimage

from exvo_jax.data.audio import load_audio
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import SAMPLE_RATE

WEIGHTS_ENV = "EXVO_VGG19_WEIGHTS"
IMAGE_SIZE = 224
VGG19_BLOCKS: tuple[int, ...] = (2, 2, 4, 4, 4)  # convolutions per block
VGG19_WIDTHS: tuple[int, ...] = (64, 128, 256, 512, 512)
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)


def mel_image(wave: np.ndarray, size: int = IMAGE_SIZE, n_mels: int = 128) -> np.ndarray:
    """Viridis mel-spectrogram image [size, size, 3] (RGB in [0, 1], row 0 = highest band) of a 16 kHz wave."""
    mel = librosa.feature.melspectrogram(y=wave, sr=SAMPLE_RATE, n_fft=512, hop_length=160, n_mels=n_mels,
                                         fmax=SAMPLE_RATE / 2)  # [M, T]
    db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)  # [M, T] in [-80, 0]
    level = np.flipud((db + 80.0) / 80.0)  # [M, T] in [0, 1], low frequencies at the bottom
    rgb = matplotlib.colormaps["viridis"](level)[..., :3].astype(np.float32)  # [M, T, 3]
    zoom = (size / rgb.shape[0], size / rgb.shape[1], 1.0)
    return np.clip(scipy.ndimage.zoom(rgb, zoom, order=1, grid_mode=True, mode="nearest"), 0.0, 1.0)  # [size, size, 3]


def caffe_preprocess(rgb: jax.Array) -> jax.Array:
    """RGB images in [0, 1] [B, H, W, 3] -> BGR, 0-255 scale, ImageNet mean subtracted."""
    return rgb[..., ::-1] * 255.0 - CAFFE_BGR_MEAN


class VGG19(nn.Module):
    """VGG-19 up to fc7 (after ReLU). Widths and fc size are parameters so tests can run a slim copy."""

    widths: tuple[int, ...] = VGG19_WIDTHS
    fc: int = 4096

    @nn.compact
    def __call__(self, images: jax.Array) -> jax.Array:  # images: [B, 224, 224, 3] caffe-preprocessed
        h = images
        for b, (count, width) in enumerate(zip(VGG19_BLOCKS, self.widths), start=1):
            for i in range(1, count + 1):
                h = nn.relu(nn.Conv(width, (3, 3), padding="SAME", name=f"conv{b}_{i}")(h))
            h = nn.max_pool(h, (2, 2), strides=(2, 2))  # [B, H/2, W/2, width]
        h = h.reshape(h.shape[0], -1)  # [B, 7 * 7 * 512] in NHWC order
        h = nn.relu(nn.Dense(self.fc, name="fc6")(h))
        return nn.relu(nn.Dense(self.fc, name="fc7")(h))  # [B, 4096]


def weights_path(path: str | Path | None = None) -> Path:
    """The local weights file: `path`, else $EXVO_VGG19_WEIGHTS; a DataError when neither exists."""
    chosen = path or os.environ.get(WEIGHTS_ENV)
    if not chosen:
        raise DataError(f"DeepSpectrum needs VGG-19 ImageNet weights as a local .npz; set {WEIGHTS_ENV} "
                        "(weights are never downloaded)")
    chosen = Path(chosen)
    if not chosen.exists():
        raise DataError(f"{chosen}: VGG-19 weights file is missing (DeepSpectrum never downloads weights)")
    return chosen


def load_weights(path: str | Path) -> tuple[VGG19, dict]:
    """A VGG19 module sized from the file and its parameter tree."""
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    params: dict = {}
    for name, value in arrays.items():
        layer, _, kind = name.partition("/")
        if kind not in ("kernel", "bias"):
            raise DataError(f"{path}: unexpected array {name!r} (expected <layer>/kernel or <layer>/bias)")
        params.setdefault(layer, {})[kind] = jnp.asarray(value, jnp.float32)
    expected = {f"conv{b}_{i}" for b, n in enumerate(VGG19_BLOCKS, 1) for i in range(1, n + 1)} | {"fc6", "fc7"}
    if set(params) != expected:
        raise DataError(f"{path}: layers {sorted(set(params) ^ expected)} missing or unexpected for VGG-19")
    widths = tuple(int(params[f"conv{b}_1"]["kernel"].shape[-1]) for b in range(1, 6))
    return VGG19(widths=widths, fc=int(params["fc7"]["kernel"].shape[-1])), params


@functools.lru_cache(maxsize=2)
def _network(path: str):
    model, params = load_weights(path)
    apply = jax.jit(lambda images: model.apply({"params": params}, caffe_preprocess(images)))
    return apply


def deepspectrum(paths: Sequence[str | Path], weights: str | Path | None = None, batch: int = 16) -> np.ndarray:
    """fc7 features [N, fc] of audio files (in batches of `batch` images)."""
    apply = _network(str(weights_path(weights)))
    rows = []
    for start in range(0, len(paths), batch):
        images = np.stack([mel_image(load_audio(p)) for p in paths[start:start + batch]])  # [b, 224, 224, 3]
        rows.append(np.asarray(apply(jnp.asarray(images))))
    return np.concatenate(rows) if rows else np.zeros((0, 4096), np.float32)
