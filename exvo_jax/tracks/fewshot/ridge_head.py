"""Closed-form personal output layer: ridge regression of a speaker's support labels, pulled toward the trained head.

The `ridge` adaptation mode keeps the whole network frozen and re-solves only the last Dense layer per
speaker. Its inputs are the top LSTM outputs at every valid frame of the speaker's support clips, each
frame labelled with its clip's label. With `phi = [h, 1]` (the bias is one more column of ones) and
the trained kernel and bias stacked as `W0` `[H + 1, K]`, a speaker's layer is

    W = argmin  sum_n w_n |y_n - phi_n W|^2 + strength |W - W0|^2,

where the frame weights `w_n` give every support clip the same total weight (a long clip does not
outvote a short one) and sum to 1, so `strength` means the same for every speaker. The bias is pulled
toward the trained bias like every other weight: from two clips a speaker's offset is no better known
than any other direction, and one strength (chosen on the selection speakers) decides how far all of
them move. Large strengths give back the trained head, small ones fit the support frames.

The normal equations are solved for the change `W - W0` (small, so float32 keeps its digits). With
`B = sqrt(w) phi` (`[N, H + 1]`, N support frames) the change is `(B'B + strength I)^-1 B' r`, or the
same as `B' (B B' + strength I)^-1 r` (r the weighted residuals of the trained head): whichever system
is smaller, `[H + 1, H + 1]` or `[N, N]`, chosen from the padded shapes. A chunk of speakers is one
batched solve under `jax.vmap`.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from exvo_jax.models.cnn_lstm import last_valid


def frame_weights(lengths: jax.Array, steps: int) -> jax.Array:
    """`[S]` valid lengths -> `[S, T]` weights `1 / (S * length)` on valid frames, 0 on padding (sum 1)."""
    valid = jnp.arange(steps)[None, :] < lengths[:, None]  # [S, T]
    per_clip = 1.0 / (lengths.shape[0] * jnp.maximum(lengths, 1).astype(jnp.float32))  # [S]
    return jnp.where(valid, per_clip[:, None], 0.0)


def frame_features(head: nn.Module, params, x: jax.Array) -> jax.Array:
    """Inputs of the head's output layer (top LSTM outputs) at every frame: `[B, T, F]` -> `[B, T, H]`."""
    return head.apply({"params": params}, x, return_hidden=True)[1]


def with_ones(features: jax.Array) -> jax.Array:
    """`[..., H]` -> `[..., H + 1]`: the bias column."""
    return jnp.concatenate([features, jnp.ones(features.shape[:-1] + (1,), features.dtype)], axis=-1)


def solve_dense(features: jax.Array, weights: jax.Array, targets: jax.Array, kernel: jax.Array, bias: jax.Array,
                strength) -> tuple[jax.Array, jax.Array]:
    """One speaker's ridge solution (module docstring): frames `features` `[N, H]`, `weights` `[N]`, `targets`
    `[N, K]`, prior `kernel` `[H, K]` and `bias` `[K]` -> `(kernel, bias)`. Padding frames carry weight 0."""
    design = with_ones(features)  # [N, H + 1]
    prior = jnp.concatenate([kernel, bias[None]], axis=0)  # [H + 1, K]
    root = jnp.sqrt(weights)[:, None]  # [N, 1]; padding rows of B and r are 0
    scaled, residual = design * root, (targets - design @ prior) * root  # B [N, H + 1], r [N, K]
    frames, columns = scaled.shape
    if columns <= frames:
        gram = scaled.T @ scaled + strength * jnp.eye(columns, dtype=scaled.dtype)  # [H + 1, H + 1]
        change = jnp.linalg.solve(gram, scaled.T @ residual)
    else:
        gram = scaled @ scaled.T + strength * jnp.eye(frames, dtype=scaled.dtype)  # [N, N]
        change = scaled.T @ jnp.linalg.solve(gram, residual)
    solved = prior + change  # [H + 1, K]
    return solved[:-1], solved[-1]


def ridge_speaker(head: nn.Module, params, strength, support: jax.Array, lengths: jax.Array, targets: jax.Array,
                  query: jax.Array, query_lengths: jax.Array) -> jax.Array:
    """One speaker: solve the output layer on `support` `[S, T, F]` (valid `lengths` `[S]`, labels `targets`
    `[S, K]`) and predict the last valid frame of each `query` clip `[Q, T', F]` -> `[Q, K]`."""
    shots, steps = support.shape[:2]
    hidden = frame_features(head, params, support)  # [S, T, H]
    frame_targets = jnp.broadcast_to(targets[:, None, :], (shots, steps, targets.shape[-1]))  # [S, T, K]
    kernel, bias = solve_dense(hidden.reshape(shots * steps, -1), frame_weights(lengths, steps).reshape(-1),
                               frame_targets.reshape(shots * steps, -1), params["dense"]["kernel"],
                               params["dense"]["bias"], strength)
    last = last_valid(frame_features(head, params, query), query_lengths)  # [Q, H]
    return last @ kernel + bias
