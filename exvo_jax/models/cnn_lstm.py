"""The CNN-LSTM: a per-frame CNN encoder, a 2-layer LSTM over frames and a per-frame Dense head.

One network under one name: the few-shot track trains and adapts it per speaker, and the Generate
track's FID classifier is the same network trained on Train (`exvo_jax.recognition`).

Input is a batch of waveforms cut into 1600-sample frames, `[B, T, 1600]`, with a frame mask `[B, T]`.
The encoder maps each frame to 512 features (channel-major flattening of `[256, 2]`; the test-sized
variant has narrower convolutions), the sequence head
runs two LSTM layers and a Dense layer at every frame. Batch norm statistics only see valid frames
(`MaskedBatchNorm`), so padding never leaks into outputs or running statistics.

The LSTM cell keeps PyTorch's layout: an input kernel, a hidden kernel and two biases, gates in the
order input, forget, cell, output. That makes weights map one to one onto `torch.nn.LSTM` (and gives the
1,565,002 parameters of the reference at H=256). The input projection of all frames is one matrix
product outside the recurrence; only the hidden projection runs inside `lax.scan` (`lstm_scan`, whose
backward pass computes kernel gradients as one matrix product over all time steps). With `lora_rank > 0`
each LSTM kernel also gets a low-rank update `A @ B` (B starts at zero, so outputs are unchanged) that
personalisation can train while the shared kernels stay frozen.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from exvo_jax.models.lstm_scan import lstm_scan

FRAME_SAMPLES = 1600
NEGATIVE_SLOPE = 0.01
kaiming_uniform = nn.initializers.variance_scaling(2.0, "fan_in", "uniform")


class MaskedBatchNorm(nn.Module):
    """Batch norm over the last axis whose batch statistics only count rows where `mask` is true.

    `x` is `[N, ..., C]` and `mask` `[N]`. Training normalises with the biased variance of valid rows and
    updates running statistics with the unbiased one (momentum as PyTorch's 0.1); evaluation uses the
    running statistics. A batch without valid rows leaves the running statistics unchanged.
    """

    momentum: float = 0.9
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, train: bool) -> jax.Array:
        features = x.shape[-1]
        scale = self.param("scale", nn.initializers.ones, (features,))
        bias = self.param("bias", nn.initializers.zeros, (features,))
        running_mean = self.variable("batch_stats", "mean", jnp.zeros, (features,))
        running_var = self.variable("batch_stats", "var", jnp.ones, (features,))
        if train:
            weights = mask.astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))  # [N, 1.., 1]
            weights = jnp.broadcast_to(weights, x.shape[:-1] + (1,))
            count = jnp.sum(weights)
            safe = jnp.maximum(count, 1.0)
            axes = tuple(range(x.ndim - 1))
            mean = jnp.sum(x * weights, axis=axes) / safe  # [C]
            var = jnp.sum(jnp.square(x - mean) * weights, axis=axes) / safe  # [C]
            if not self.is_initializing():
                unbiased = var * safe / jnp.maximum(count - 1.0, 1.0)
                keep = count < 1.0
                new_mean = self.momentum * running_mean.value + (1 - self.momentum) * mean
                new_var = self.momentum * running_var.value + (1 - self.momentum) * unbiased
                running_mean.value = jnp.where(keep, running_mean.value, new_mean)
                running_var.value = jnp.where(keep, running_var.value, new_var)
        else:
            mean, var = running_mean.value, running_var.value
        return (x - mean) * jax.lax.rsqrt(var + self.epsilon) * scale + bias


class FrameEncoder(nn.Module):
    """Three conv blocks per 1600-sample frame: `[B, T, 1600]` -> `[B, T, 2 * channels[-1]]` (512 by default)."""

    channels: tuple[int, int, int] = (64, 128, 256)

    @nn.compact
    def __call__(self, frames: jax.Array, mask: jax.Array, train: bool = False) -> jax.Array:
        batch, steps, samples = frames.shape
        x = frames.reshape(batch * steps, samples, 1)  # [N, 1600, 1]
        flat_mask = mask.reshape(batch * steps)  # [N]
        for channels, kernel, padding, pool in zip(self.channels, (8, 6, 6), (3, 2, 2), (10, 8, 8)):
            x = nn.Conv(channels, (kernel,), padding=[(padding, padding)], kernel_init=kaiming_uniform,
                        bias_init=nn.initializers.zeros)(x)
            x = MaskedBatchNorm()(x, flat_mask, train)
            x = nn.leaky_relu(x, NEGATIVE_SLOPE)
            x = nn.max_pool(x, (pool,), strides=(pool,))
        # x: [N, 2, C] -> channel-major [N, C, 2] -> [B, T, 2C]
        x = jnp.transpose(x, (0, 2, 1)).reshape(batch, steps, -1)
        return x


class TorchLSTM(nn.Module):
    """One LSTM layer with PyTorch's parameters (`w_ih` [F, 4H], `w_hh` [H, 4H], `b_ih`, `b_hh`), time-major.

    `lora_rank > 0` adds `lora_ih_a` [F, r], `lora_ih_b` [r, 4H], `lora_hh_a` [H, r], `lora_hh_b` [r, 4H].
    """

    hidden: int
    lora_rank: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, projected: jax.Array | None = None) -> jax.Array:  # [T, B, F] -> [T, B, H]
        """`projected`, if given, is `x @ w_ih` computed beforehand (a frozen kernel: once for many steps)."""
        features, hidden = x.shape[-1], self.hidden
        w_ih = self.param("w_ih", kaiming_uniform, (features, 4 * hidden))
        w_hh = self.param("w_hh", kaiming_uniform, (hidden, 4 * hidden))
        b_ih = self.param("b_ih", nn.initializers.zeros, (4 * hidden,))
        b_hh = self.param("b_hh", nn.initializers.zeros, (4 * hidden,))
        gates_x = x @ w_ih if projected is None else projected  # [T, B, 4H]
        low_rank = ()
        if self.lora_rank:
            a_ih = self.param("lora_ih_a", kaiming_uniform, (features, self.lora_rank))
            b_ih_lora = self.param("lora_ih_b", nn.initializers.zeros, (self.lora_rank, 4 * hidden))
            a_hh = self.param("lora_hh_a", kaiming_uniform, (hidden, self.lora_rank))
            b_hh_lora = self.param("lora_hh_b", nn.initializers.zeros, (self.lora_rank, 4 * hidden))
            gates_x = gates_x + (x @ a_ih) @ b_ih_lora
            low_rank = (a_hh, b_hh_lora)
        return lstm_scan(gates_x, b_ih + b_hh, w_hh, low_rank)


class SequenceHead(nn.Module):
    """Two LSTM layers and a per-frame Dense: `[B, T, 512]` -> `[B, T, outputs]` (no output activation).

    The layers run time-major (the order of the recurrence); only the inputs and the small outputs are
    transposed.
    """

    hidden: int = 256
    outputs: int = 10
    lora_rank: int = 0

    @nn.compact
    def __call__(self, features: jax.Array, projected: jax.Array | None = None, return_hidden: bool = False):
        """`projected`: optional `features @ w_ih` of the first LSTM layer (`[B, T, 4H]`), computed beforehand.

        Returns the outputs `[B, T, outputs]`; with `return_hidden`, `(outputs, top LSTM outputs [B, T, H])`
        (the output layer's inputs: the FID feature space and the ridge head's design).
        """
        time_major = functools.partial(jnp.swapaxes, axis1=0, axis2=1)
        if projected is not None:
            projected = time_major(projected)
        x = TorchLSTM(self.hidden, self.lora_rank, name="lstm_0")(time_major(features), projected)
        x = TorchLSTM(self.hidden, self.lora_rank, name="lstm_1")(x)  # [T, B, H]
        dense = nn.Dense(self.outputs, kernel_init=kaiming_uniform, bias_init=nn.initializers.zeros, name="dense")
        outputs = time_major(dense(x))
        return (outputs, time_major(x)) if return_hidden else outputs


class CnnLstm(nn.Module):
    """Encoder + sequence head; `__call__` returns per-frame outputs `[B, T, outputs]`."""

    hidden: int = 256
    outputs: int = 10
    lora_rank: int = 0
    channels: tuple[int, int, int] = (64, 128, 256)

    def setup(self):
        self.encoder = FrameEncoder(self.channels)
        self.head = SequenceHead(self.hidden, self.outputs, self.lora_rank)

    def __call__(self, frames: jax.Array, mask: jax.Array, train: bool = False) -> jax.Array:
        return self.head(self.encoder(frames, mask, train))

    def encode(self, frames: jax.Array, mask: jax.Array) -> jax.Array:
        """Encoder features with running statistics: `[B, T, 1600]` -> `[B, T, 2 * channels[-1]]`."""
        return self.encoder(frames, mask, False)


def last_valid(outputs: jax.Array, lengths: jax.Array) -> jax.Array:
    """Output at the last valid frame of each sequence: `[B, T, K]`, `[B]` -> `[B, K]`."""
    index = jnp.clip(lengths - 1, 0, outputs.shape[1] - 1)
    return jnp.take_along_axis(outputs, index[:, None, None], axis=1)[:, 0]


CnnLstmTiny = functools.partial(CnnLstm, hidden=16, channels=(8, 16, 16))  # test-sized
CnnLstm64 = functools.partial(CnnLstm, hidden=64)
CnnLstm128 = functools.partial(CnnLstm, hidden=128)
CnnLstm256 = functools.partial(CnnLstm, hidden=256)
