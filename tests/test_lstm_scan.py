"""The LSTM recurrence's hand-written backward pass gives autodiff's gradients, with and without low-rank terms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.models.lstm_scan import lstm_scan


def autodiff_lstm(gates_x, bias, w_hh, low_rank=()):
    """The same recurrence as a plain `lax.scan` differentiated by JAX."""
    zeros = jnp.zeros((gates_x.shape[1], w_hh.shape[0]), gates_x.dtype)

    def step(carry, gx):
        h, c = carry
        recurrent = h @ w_hh + ((h @ low_rank[0]) @ low_rank[1] if low_rank else 0.0)
        i, f, g, o = jnp.split(gx + bias + recurrent, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    return jax.lax.scan(step, (zeros, zeros), gates_x)[1]


@pytest.mark.parametrize("rank", [0, 3])
def test_gradients_match_autodiff(rank):
    keys = jax.random.split(jax.random.key(0), 6)
    batch, steps, hidden = 3, 7, 8
    gates_x = jax.random.normal(keys[0], (steps, batch, 4 * hidden))
    bias = 0.5 * jax.random.normal(keys[5], (4 * hidden,))
    w_hh = 0.3 * jax.random.normal(keys[1], (hidden, 4 * hidden))
    low_rank = (0.3 * jax.random.normal(keys[2], (hidden, rank)),
                0.3 * jax.random.normal(keys[3], (rank, 4 * hidden))) if rank else ()
    weights = jax.random.normal(keys[4], (steps, batch, hidden))  # a loss that reads every hidden state

    def loss(fn, *args):
        return jnp.sum(jnp.tanh(fn(*args)) * weights)

    args = (gates_x, bias, w_hh, low_rank)
    np.testing.assert_allclose(lstm_scan(*args), autodiff_lstm(*args), rtol=1e-6, atol=1e-6)
    ours = jax.grad(lambda *a: loss(lstm_scan, *a), argnums=(0, 1, 2, 3))(*args)
    theirs = jax.grad(lambda *a: loss(autodiff_lstm, *a), argnums=(0, 1, 2, 3))(*args)
    assert jax.tree.structure(ours) == jax.tree.structure(theirs)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs)):
        assert float(jnp.max(jnp.abs(b))) > 1e-3  # gradients are not trivially zero
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_vmapped_gradients_match_per_example_gradients():
    keys = jax.random.split(jax.random.key(1), 3)
    gates_x = jax.random.normal(keys[0], (4, 5, 2, 16))  # 4 independent problems
    bias = jax.random.normal(keys[2], (4, 16))
    w_hh = 0.3 * jax.random.normal(keys[1], (4, 4, 16))

    def grad(g, b, w):
        return jax.grad(lambda g, b, w: jnp.sum(lstm_scan(g, b, w, ()) ** 2), argnums=(0, 1, 2))(g, b, w)

    batched = jax.vmap(grad)(gates_x, bias, w_hh)
    for k in range(4):
        single = grad(gates_x[k], bias[k], w_hh[k])
        for a, b in zip(batched, single):
            np.testing.assert_allclose(a[k], b, rtol=1e-5, atol=1e-6)
