"""MSG-GAN for log-mel spectrograms (the Generate track): a multi-scale generator and discriminator.

Layout is NHWC with H = mel bands and W = frames: the baseline makes `[B, 128, 512, 1]` mels. Scale `s`
(0 = smallest) has shape `base_shape * 2**s` (2x8 ... 128x512 at depth 7). The generator returns one
mel per scale, smallest first; the discriminator reads such a list (real ones from `mel_pyramid`).

Equalised learning rate everywhere: weights start N(0, 1), biases 0, and the weight is multiplied by
`sqrt(2) / sqrt(fan_in)` at run time (kh * kw * c_in for a conv, incl. the 1x1s; c_in for a dense
layer). The initial transposed conv (kernel `base_shape` on a 1x1 input) is a matrix product
`[B, L] -> [B, 2, 8, C0]` with one bias per channel and fan_in = L. z is rescaled to norm sqrt(L).

Channels (`channel_schedule`): the generator has `width` (default: the latent size) at the first four
scales, halving after (512, 512, 512, 512, 256, 128, 64 at depth 7). The discriminator mirrors it: at
scale s its trunk has the generator's `g_s` channels, from_rgb (`g_s - g_s // 2`; all `g_s` at the top
scale) concatenated before the output of the block above (`g_s // 2`); its final block has `g_0`.

The minibatch-stddev channel is a statistic of the whole batch of one call: never run D on real and
fake concatenated into one batch; the trainer (`exvo_jax.tracks.generate.steps`) calls D once per set. Under data
parallelism the statistic is over the global batch.

Class conditioning (`num_classes > 0`) takes a `[B, num_classes]` float vector: a one-hot dominant
emotion or the soft intensities (`exvo_jax.tracks.generate.condition`). G adds a linear label embedding
(`label_embed`: no bias, gain 1, so a soft vector embeds as the intensity-weighted sum of class
embeddings) to the normalised z before the first layer; D is a projection discriminator, score +
<label_embed(c), phi(x)>, phi the features before the final 1x1. Adding rather than concatenating keeps
every other shape: the conditional tree is the unconditional one plus `label_embed`, and a zero
embedding gives exactly the unconditional net. `num_classes=0` is the unconditional MSG-GAN.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from exvo_jax.data.schema import NUM_EMOTIONS

SQRT2 = math.sqrt(2.0)
NEGATIVE_SLOPE = 0.2
EPSILON = 1e-8
FULL_WIDTH_SCALES = 4
standard_normal = nn.initializers.normal(stddev=1.0)


def channel_schedule(depth: int, width: int) -> tuple[int, ...]:
    """Generator channels per scale: `width` for the first four scales, then halving (at least 2)."""
    return tuple(max(2, width // 2 ** max(0, s - FULL_WIDTH_SCALES + 1)) for s in range(depth))


def scale_shapes(depth: int, base_shape: tuple[int, int] = (2, 8)) -> tuple[tuple[int, int], ...]:
    """(H, W) of every scale, smallest first."""
    return tuple((base_shape[0] * 2**s, base_shape[1] * 2**s) for s in range(depth))


def pixel_norm(x: jax.Array) -> jax.Array:
    """x / sqrt(mean over the last (channel) axis of x^2 + 1e-8)."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + EPSILON)


def lrelu(x: jax.Array) -> jax.Array:
    return nn.leaky_relu(x, NEGATIVE_SLOPE)


def upsample2x(x: jax.Array) -> jax.Array:
    """Bilinear x2 in H and W (half-pixel centres, edges clamped, as align_corners=False): `[B, H, W, C]`."""
    batch, height, width, channels = x.shape
    return jax.image.resize(x, (batch, 2 * height, 2 * width, channels), "bilinear")


def minibatch_stddev(x: jax.Array) -> jax.Array:
    """Appends one channel: std over the batch (biased, + 1e-8) averaged over H, W, C. `[B,H,W,C] -> [B,H,W,C+1]`."""
    std = jnp.sqrt(jnp.var(x, axis=0) + EPSILON)  # [H, W, C]
    stat = jnp.broadcast_to(jnp.mean(std), x.shape[:-1] + (1,))  # [B, H, W, 1]
    return jnp.concatenate([x, stat.astype(x.dtype)], axis=-1)


def mel_pyramid(mel: jax.Array, depth: int) -> list[jax.Array]:
    """Real inputs for D: `[B, H, W, C]` average-pooled by 2**i, smallest scale first (the mel itself last)."""
    chex.assert_rank(mel, 4)
    factor = 2 ** (depth - 1)
    if mel.shape[1] % factor or mel.shape[2] % factor:
        raise ValueError(f"mel of shape {mel.shape} cannot be pooled {depth - 1} times by 2")
    windows = [(2**i, 2**i) for i in range(depth - 1, 0, -1)]
    return [nn.avg_pool(mel, window, strides=window) for window in windows] + [mel]


_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def _explicit(padding, kh, kw):
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding == "SAME":
        return (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2))
    return tuple(tuple(p) for p in padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv2d(x, kernel, padding):
    """[B, H, W, Ci] * [kh, kw, Ci, Co] -> [B, H', W', Co], stride 1; padding: explicit ((t, b), (l, r))."""
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=_DIMENSIONS)


def _forward(x, kernel, padding):
    return conv2d(x, kernel, padding), (x, kernel)


def _backward(padding, residual, dy):
    x, kernel = residual
    kh, kw = kernel.shape[:2]
    (top, bottom), (left, right) = padding
    flipped = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)  # [kh, kw, Co, Ci]
    full = ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right))
    dx = lax.conv_general_dilated(dy, flipped, (1, 1), full, dimension_numbers=_DIMENSIONS)
    # dk[a, b, i, o] = sum_{n,h,w} x_pad[n, h + a, w + b, i] dy[n, h, w, o]: channels as batch, batch as features
    dk = lax.conv_general_dilated(x.transpose(3, 1, 2, 0), dy.transpose(1, 2, 0, 3), (1, 1), padding,
                                  dimension_numbers=_DIMENSIONS)  # [Ci, kh, kw, Co]
    return dx, dk.transpose(1, 2, 0, 3)


conv2d.defvjp(_forward, _backward)


class EqualDense(nn.Module):
    """Dense layer with an equalised learning rate: `x @ (kernel * gain / sqrt(c_in)) + bias`."""

    features: int
    gain: float = SQRT2
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # [..., c_in] -> [..., features]
        kernel = self.param("kernel", standard_normal, (x.shape[-1], self.features))
        y = x @ (kernel * (self.gain / math.sqrt(x.shape[-1])))
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


class EqualConv(nn.Module):
    """Stride-1 conv with an equalised learning rate (fan_in = kh * kw * c_in); 'SAME' is zero padding."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    padding: str = "SAME"
    gain: float = SQRT2

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # [B, H, W, c_in] -> [B, H', W', features]
        kh, kw = self.kernel_size
        kernel = self.param("kernel", standard_normal, (kh, kw, x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        scale = self.gain / math.sqrt(kh * kw * x.shape[-1])
        y = conv2d(x, kernel * scale, _explicit(self.padding, kh, kw))
        return y + bias


class LatentProjection(nn.Module):
    """A transposed conv with kernel `shape` on a 1x1 input: `[B, L] -> [B, h, w, features]`, fan_in = L."""

    features: int
    shape: tuple[int, int]

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        kernel = self.param("kernel", standard_normal, (z.shape[-1], *self.shape, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return jnp.einsum("bl,lhwc->bhwc", z, kernel * (SQRT2 / math.sqrt(z.shape[-1]))) + bias


class _MSGGANModule(nn.Module):
    """Fields shared by the generator and the discriminator."""

    depth: int = 7
    latent_size: int = 512
    base_shape: tuple[int, int] = (2, 8)
    channels: tuple[int, ...] | None = None  # per scale, smallest first; None: channel_schedule(depth, latent)
    num_classes: int = 0  # 0: unconditional

    def widths(self) -> tuple[int, ...]:
        widths = self.channels if self.channels is not None else channel_schedule(self.depth, self.latent_size)
        if len(widths) != self.depth or min(widths) < 2:
            raise ValueError(f"channels {widths} must give a width of at least 2 for each of {self.depth} scales")
        return tuple(widths)

    def label_embedding(self, condition: jax.Array | None, batch: int, features: int) -> jax.Array | None:
        """`label_embed(condition)` `[B, features]`, or None for an unconditional module."""
        if not self.num_classes:
            if condition is not None:
                raise ValueError("an unconditional MSG-GAN (num_classes=0) got a condition")
            return None
        if condition is None:
            raise ValueError(f"a conditional MSG-GAN needs a [B, {self.num_classes}] condition")
        chex.assert_shape(condition, (batch, self.num_classes))
        return EqualDense(features, gain=1.0, use_bias=False, name="label_embed")(condition)


class Generator(_MSGGANModule):
    """`z [B, L]` (and `condition [B, K]` when conditional) -> list of `depth` mels `[B, H_s, W_s, 1]`."""

    @nn.compact
    def __call__(self, z: jax.Array, condition: jax.Array | None = None) -> list[jax.Array]:
        widths = self.widths()
        chex.assert_shape(z, (None, self.latent_size))
        x = pixel_norm(z)  # [B, L], norm sqrt(L)
        embedding = self.label_embedding(condition, z.shape[0], self.latent_size)
        if embedding is not None:
            x = x + embedding
        x = lrelu(LatentProjection(widths[0], self.base_shape, name="initial")(x))  # [B, 2, 8, C0]
        x = pixel_norm(lrelu(EqualConv(widths[0], name="initial_conv")(x)))
        outputs = [EqualConv(1, (1, 1), name="to_rgb_0")(x)]
        for s in range(1, self.depth):
            x = upsample2x(x)  # [B, H_s, W_s, C_{s-1}]
            x = pixel_norm(lrelu(EqualConv(widths[s], name=f"block_{s}_conv_0")(x)))
            x = pixel_norm(lrelu(EqualConv(widths[s], name=f"block_{s}_conv_1")(x)))  # [B, H_s, W_s, C_s]
            outputs.append(EqualConv(1, (1, 1), name=f"to_rgb_{s}")(x))
        chex.assert_shape(outputs, [(z.shape[0], h, w, 1) for h, w in scale_shapes(self.depth, self.base_shape)])
        return outputs


class Discriminator(_MSGGANModule):
    """List of `depth` mels `[B, H_s, W_s, 1]`, smallest first (and `condition`) -> scores `[B]`."""

    @nn.compact
    def __call__(self, scales: Sequence[jax.Array], condition: jax.Array | None = None) -> jax.Array:
        widths = self.widths()
        batch, top = scales[0].shape[0], self.depth - 1
        chex.assert_shape(list(scales), [(batch, h, w, None) for h, w in scale_shapes(self.depth, self.base_shape)])
        y = None
        for s in range(top, -1, -1):
            rgb_width = widths[s] if s == top else widths[s] - widths[s] // 2
            x = EqualConv(rgb_width, (1, 1), name=f"from_rgb_{s}")(scales[s])  # [B, H_s, W_s, rgb_width]
            x = x if y is None else jnp.concatenate([x, y], axis=-1)  # [B, H_s, W_s, C_s]
            if s == 0:
                break
            x = lrelu(EqualConv(widths[s], name=f"block_{s}_conv_0")(x))
            x = lrelu(EqualConv(widths[s - 1] // 2, name=f"block_{s}_conv_1")(x))
            y = nn.avg_pool(x, (2, 2), strides=(2, 2))  # [B, H_{s-1}, W_{s-1}, C_{s-1} // 2]
        x = minibatch_stddev(x)  # [B, 2, 8, C0 + 1]
        x = lrelu(EqualConv(widths[0], name="final_conv")(x))  # [B, 2, 8, C0]
        x = lrelu(EqualConv(widths[0], self.base_shape, "VALID", name="final_valid")(x))  # [B, 1, 1, C0]
        score = EqualConv(1, (1, 1), name="score")(x)[:, 0, 0, 0]  # [B]
        phi = x[:, 0, 0, :]  # [B, C0]
        embedding = self.label_embedding(condition, batch, widths[0])
        if embedding is not None:
            score = score + jnp.sum(embedding * phi, axis=-1)
        chex.assert_shape(score, (batch,))
        return score


class MSGGAN(NamedTuple):
    generator: Generator
    discriminator: Discriminator


def msg_gan(depth: int = 7, latent_size: int = 512, base_shape: tuple[int, int] = (2, 8),
            channels: tuple[int, ...] | None = None, num_classes: int = 0) -> MSGGAN:
    """A generator and a discriminator of the same geometry (separate modules: separate parameter trees)."""
    fields = dict(depth=depth, latent_size=latent_size, base_shape=tuple(base_shape),
                  channels=None if channels is None else tuple(channels), num_classes=num_classes)
    return MSGGAN(Generator(**fields), Discriminator(**fields))


msg_gan_baseline = functools.partial(msg_gan, depth=7, latent_size=512)  # 128x512 mel; G 23.0 M, D 18.7 M
msg_gan_conditional = functools.partial(msg_gan, depth=7, latent_size=512, num_classes=NUM_EMOTIONS)
msg_gan_small = functools.partial(msg_gan, depth=7, latent_size=128)  # 128x512 mel, 1/16 of the weights
msg_gan_tiny = functools.partial(msg_gan, depth=4, latent_size=16)  # 16x64 mel: test-sized
