"""LSTM recurrence over precomputed input gates, with a hand-written backward pass.

`lstm_scan(gates_x, bias, w_hh, low_rank)` runs `h_t, c_t = cell(gates_x[t] + bias + h_{t-1} @ W)` over
time, with `W = w_hh` plus an optional low-rank term `(h @ a) @ b` (`low_rank = (a, b)`, or `()`), gates
in PyTorch's order input, forget, cell, output. Arrays are time-major: `gates_x` `[T, B, 4H]` in, hidden
states `[T, B, H]` out, which is the order the scan walks (no transposes inside).

Differentiating a `lax.scan` that closes over `w_hh` makes JAX accumulate the kernel's gradient inside
the loop: at every time step an outer product with a batch of a few rows is added into the whole
`[H, 4H]` kernel. Here the backward scan only carries `dh`, `dc` and the small bias gradient and emits
the gate gradients; the kernel gradients are then one matrix product over all time steps and rows
(`H_prev^T @ dG`), which is what makes per-speaker fine-tuning of small batches fast. The numbers are
those of autodiff (a test compares them).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _forward(gates_x, bias, w_hh, low_rank):
    """Scans the cell; saves what the backward pass needs, per step (`u` = `h_{t-1} @ a`, empty without LoRA)."""
    _, batch, width = gates_x.shape
    zeros = jnp.zeros((batch, width // 4), gates_x.dtype)

    def step(carry, gx):
        h, c = carry
        pre = gx + bias + h @ w_hh
        u = ()
        if low_rank:
            u = h @ low_rank[0]
            pre = pre + u @ low_rank[1]
        i, f, g, o = jnp.split(pre, 4, axis=-1)
        i, f, g, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)
        c_new = f * c + i * g
        tanh_c = jnp.tanh(c_new)
        h_new = o * tanh_c
        return (h_new, c_new), (h_new, c, i, f, g, o, tanh_c, u)

    _, saved = jax.lax.scan(step, (zeros, zeros), gates_x)
    return saved


@jax.custom_vjp
def lstm_scan(gates_x: jax.Array, bias: jax.Array, w_hh: jax.Array, low_rank: tuple) -> jax.Array:
    """Hidden states `[T, B, H]` of an LSTM layer with input projection `gates_x` `[T, B, 4H]` and `bias` `[4H]`."""
    return _forward(gates_x, bias, w_hh, low_rank)[0]


def _lstm_scan_fwd(gates_x, bias, w_hh, low_rank):
    saved = _forward(gates_x, bias, w_hh, low_rank)
    return saved[0], (saved, bias, w_hh, low_rank)


def _lstm_scan_bwd(residuals, d_hs):
    (hs, c_prev, i, f, g, o, tanh_c, u), bias, w_hh, low_rank = residuals
    h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)  # [T, B, H]
    w_t = w_hh.T

    def step(carry, xs):
        dh_next, dc_next, d_bias, d_low_rank = carry
        dh_out, c_before, i, f, g, o, tanh_c, h_before, u = xs
        dh = dh_out + dh_next
        dc = dh * o * (1.0 - tanh_c * tanh_c) + dc_next
        d_gates = jnp.concatenate([
            dc * g * i * (1.0 - i),
            dc * c_before * f * (1.0 - f),
            dc * i * (1.0 - g * g),
            dh * tanh_c * o * (1.0 - o),
        ], axis=-1)
        dh_prev = d_gates @ w_t
        if low_rank:  # the low-rank gradients are small: accumulated here, not as products over all steps
            a, b = low_rank
            d_u = d_gates @ b.T  # [B, r]
            dh_prev = dh_prev + d_u @ a.T
            d_low_rank = (d_low_rank[0] + h_before.T @ d_u, d_low_rank[1] + u.T @ d_gates)
        return (dh_prev, dc * f, d_bias + jnp.sum(d_gates, axis=0), d_low_rank), d_gates

    zeros = jnp.zeros_like(d_hs[0])
    carry = (zeros, zeros, jnp.zeros_like(bias), tuple(jnp.zeros_like(m) for m in low_rank))
    (_, _, d_bias, d_low_rank), d_gates = jax.lax.scan(
        step, carry, (d_hs, c_prev, i, f, g, o, tanh_c, h_prev, u), reverse=True)
    d_w = jnp.einsum("tbi,tbj->ij", h_prev, d_gates)  # one product over all time steps and rows
    return d_gates, d_bias, d_w, d_low_rank


lstm_scan.defvjp(_lstm_scan_fwd, _lstm_scan_bwd)
