"""Tests for `exvo_jax.optim`: the extragradient wrapper, ExtraAdam, and joint extragradient on games."""

import functools
import os
import tempfile

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from absl.testing import parameterized

from exvo_jax.optim import ExtragradientState, GameState, Player, extra_adam, extra_sgd, extragradient
from exvo_jax.optim import extragradient_step


def _quadratic_grad(params):
    return params  # the gradient of |w|^2 / 2


def _bilinear_grads(params, inputs):
    """min_x max_y xy: each player's gradient of its own loss (x minimises xy, y minimises -xy)."""
    del inputs
    x, y = params
    return (y, -x), None


def _radii(params_fn, step_fn, carry, length):
    """|p| after each of `length` iterations, run as one `lax.scan`."""

    def body(carry, _):
        carry = step_fn(carry)
        return carry, jnp.hypot(*params_fn(carry))

    return jax.lax.scan(body, carry, length=length)[1]


def _extragradient_radii(tx, length):
    one = jnp.ones([], jnp.float32)
    state = GameState.create(Player.create(one, tx), Player.create(one, tx))
    step = extragradient_step(_bilinear_grads, donate=False)
    return _radii(lambda s: s.params, lambda s: step(s, None, None)[0], state, length)


def _simultaneous_radii(tx, length):
    params = (jnp.ones([], jnp.float32), jnp.ones([], jnp.float32))

    def step(carry):
        params, state = carry
        grads, _ = _bilinear_grads(params, None)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return _radii(lambda c: c[0], step, (params, tx.init(params)), length)


class ExtragradientTest(chex.TestCase):

    @chex.variants(with_jit=True, without_jit=True)
    def test_update_formula_on_a_quadratic(self):
        opt = extra_sgd(0.25)
        w_t = jnp.array([1.0, -2.0, 4.0])
        update = self.variant(lambda params, state: opt.update(_quadratic_grad(params), state, params))

        state = opt.init(w_t)
        updates, state = update(w_t, state)  # extrapolation: inner(g(w_t)) = -0.25 w_t
        chex.assert_trees_all_equal(updates, -0.25 * w_t)
        chex.assert_trees_all_equal(state.anchor, w_t)
        self.assertEqual(int(state.phase), 1)

        w_half = optax.apply_updates(w_t, updates)
        updates, state = update(w_half, state)  # real update: anchor + inner(g(w_half)) - params
        chex.assert_trees_all_equal(updates, w_t - 0.25 * w_half - w_half)
        chex.assert_trees_all_equal(optax.apply_updates(w_half, updates), w_t - 0.25 * w_half)
        self.assertEqual(int(state.phase), 0)

    def test_schedule_is_indexed_by_iteration(self):
        opt = extra_sgd(lambda t: 0.5**t)  # iteration 0 at lr 1, iteration 1 at lr 0.5
        params = jnp.zeros([])
        state = opt.init(params)
        trajectory = []
        for _ in range(4):  # the gradient is 1 everywhere
            updates, state = opt.update(jnp.ones([]), state, params)
            params = optax.apply_updates(params, updates)
            trajectory.append(float(params))
        self.assertEqual(trajectory, [-1.0, -1.0, -1.5, -1.5])  # per call (1, 0.5, 0.25, ...) would differ

    @chex.variants(with_jit=True, without_jit=True)
    def test_extra_adam_count_rises_by_two_per_iteration(self):
        opt = extra_adam(1e-2)
        params = {"w": jnp.ones([3]), "b": jnp.zeros([])}

        def iteration(params, state):
            for _ in range(2):  # extrapolation, then real update
                updates, state = opt.update(_quadratic_grad(params), state, params)
                params = optax.apply_updates(params, updates)
            return params, state

        iteration = self.variant(iteration)
        state = opt.init(params)
        for i in (1, 2):
            params, state = iteration(params, state)
            self.assertEqual(int(optax.tree.get(state, "count")), 2 * i)
            self.assertEqual(int(state.phase), 0)

    @parameterized.parameters("bfloat16", "float32")
    def test_preserve_dtype(self, dtype):
        opt = extra_adam(1e-3, b1=0.0, b2=0.99)
        params = jnp.array([1.0, 2.0], dtype=dtype)
        state = jax.jit(opt.init)(params)
        dtypes = jax.tree.map(lambda x: x.dtype, state)
        step = jax.jit(lambda p, s: opt.update(_quadratic_grad(p), s, p))
        for _ in range(2):  # both phases
            updates, state = step(params, state)
            self.assertEqual(updates.dtype, params.dtype)
            params = optax.apply_updates(params, updates)
            self.assertEqual(params.dtype, jnp.dtype(dtype))
            chex.assert_trees_all_equal(jax.tree.map(lambda x: x.dtype, state), dtypes)

    def test_converges_under_scan_without_recompiling(self):
        target = jnp.array([1.0, -1.0, 1.0])
        opt = extra_adam(5e-2)

        @jax.jit
        @chex.assert_max_traces(n=1)
        def step(params, state):
            grads = jax.grad(lambda p: jnp.sum((p - target) ** 2))(params)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        params, state = step(jnp.array([-1.0, 10.0, 1.0]), opt.init(jnp.zeros([3])))
        params, state = step(params, state)  # a second call: no new trace
        (params, _), _ = jax.lax.scan(lambda c, _: (step(*c), None), (params, state), length=6_000)
        chex.assert_trees_all_close(params, target, atol=1e-2)

    def test_update_requires_params(self):
        opt = extra_sgd(0.1)
        with self.assertRaisesRegex(ValueError, "params"):
            opt.update(jnp.ones([2]), opt.init(jnp.ones([2])))

    @parameterized.parameters(
        dict(learning_rate=0.0),
        dict(learning_rate=-1e-3),
        dict(learning_rate=1e-3, b1=1.0),
        dict(learning_rate=1e-3, b1=-0.1),
        dict(learning_rate=1e-3, b2=1.0),
        dict(learning_rate=1e-3, eps=-1e-8),
        dict(learning_rate=1e-3, eps_root=-1.0),
    )
    def test_extra_adam_rejects_bad_hyperparameters(self, **kwargs):
        with self.assertRaises(ValueError):
            extra_adam(**kwargs)

    def test_extra_adam_can_be_wrapped_in_inject_hyperparams(self):
        opt = extra_adam(1e-2, b1=0.0)
        injected = optax.inject_hyperparams(extra_adam)(learning_rate=1e-2, b1=0.0)
        params = {"w": jnp.array([1.0, -2.0])}

        @functools.partial(jax.jit, static_argnums=0)
        def two_calls(opt, params):  # extrapolation, then real update
            state, steps = opt.init(params), []
            for _ in range(2):
                updates, state = opt.update(params, state, params)
                params = optax.apply_updates(params, updates)
                steps.append(updates)
            return steps

        chex.assert_trees_all_close(two_calls(injected, params), two_calls(opt, params), rtol=1e-4)

    def test_extra_sgd_rejects_bad_learning_rate(self):
        with self.assertRaises(ValueError):
            extra_sgd(0.0)

    def test_wraps_any_transformation(self):
        opt = extragradient(optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.5)))
        state = opt.init(jnp.zeros([2]))
        self.assertIsInstance(state, ExtragradientState)
        updates, _ = opt.update(jnp.array([3.0, 4.0]), state, jnp.zeros([2]))
        chex.assert_trees_all_close(updates, jnp.array([-0.3, -0.4]))


class GameTest(chex.TestCase):

    def test_players_extrapolate_jointly_on_per_phase_inputs(self):
        lr = 0.5

        def grads_fn(params, scale):  # the loss xy scaled by the phase's input
            x, y = params
            return (scale * y, -scale * x), scale

        state = GameState.create(Player.create(jnp.float32(1.0), extra_sgd(lr)),
                                 Player.create(jnp.float32(2.0), extra_sgd(lr)))
        state, aux = extragradient_step(grads_fn)(state, jnp.float32(1.0), jnp.float32(3.0))
        x_half, y_half = 1.0 - lr * 2.0, 2.0 + lr * 1.0  # both from w_t, with g(w_t)
        expected = (1.0 - lr * 3.0 * y_half, 2.0 + lr * 3.0 * x_half)  # both from w_t, with g(w_half)
        chex.assert_trees_all_close(state.params, expected)
        self.assertEqual((float(aux[0]), float(aux[1])), (1.0, 3.0))
        self.assertEqual(int(state.step), 1)

    def test_does_not_recompile(self):
        traced = chex.assert_max_traces(_bilinear_grads, n=2)  # one trace per phase, in one compilation
        step = extragradient_step(traced)
        state = GameState.create(Player.create(jnp.ones([]), extra_adam(1e-3)),
                                 Player.create(jnp.ones([]), extra_adam(1e-3)))
        for _ in range(3):
            state, _ = step(state, None, None)

    def test_rejects_a_plain_transformation(self):
        with self.assertRaisesRegex(ValueError, "player 1"):
            GameState.create(Player.create(jnp.ones([]), extra_sgd(0.1)), Player.create(jnp.ones([]), optax.sgd(0.1)))

    def test_bilinear_game_sgd(self):
        radii = jax.jit(lambda: (_extragradient_radii(extra_sgd(0.1), 2_000),
                                 _simultaneous_radii(optax.sgd(0.1), 2_000)))()
        extra, simultaneous = map(np.asarray, radii)
        self.assertLess(extra[-1], 1e-3)  # from |p| = sqrt(2)
        self.assertGreater(simultaneous[-1], 100.0)
        self.assertTrue(np.all(np.diff(simultaneous) > 0))

    @parameterized.parameters(1e-2, 1e-3)
    def test_bilinear_game_adam_tail(self, lr):
        """Constant-lr Adam ends in a limit cycle: ExtraAdam's is about 1.15 lr wide, simultaneous Adam's 28 lr."""
        radii = jax.jit(lambda: (_extragradient_radii(extra_adam(lr, b1=0.0, b2=0.99), 10_000),
                                 _simultaneous_radii(optax.adam(lr, b1=0.0, b2=0.99), 10_000)))()
        extra, simultaneous = (np.asarray(r[-1_000:]) for r in radii)
        self.assertLess(extra.max(), 3 * lr)
        self.assertGreater(simultaneous.min(), 10 * lr)

    def test_state_survives_an_orbax_round_trip(self):
        def grads_fn(params, key):  # the bilinear game d * (g . noise + b), with fresh noise per phase
            g, d = params
            noise = jax.random.normal(key, [3])
            return ({"w": d["w"] * noise, "b": d["w"]}, {"w": -(jnp.dot(g["w"], noise) + g["b"])}), None

        txs = extra_adam(1e-2, b1=0.0, b2=0.99), extra_adam(1e-3)  # static: one instance per player, reused

        def players():
            return (Player.create({"w": jnp.ones([3]), "b": jnp.zeros([])}, txs[0]),
                    Player.create({"w": jnp.float32(0.5)}, txs[1]))

        step = extragradient_step(grads_fn, donate=False)
        keys = jax.random.split(jax.random.key(0), 12)
        uninterrupted = GameState.create(*players())
        for k in range(0, 12, 2):
            uninterrupted, _ = step(uninterrupted, keys[k], keys[k + 1])

        state = GameState.create(*players())
        for k in range(0, 6, 2):
            state, _ = step(state, keys[k], keys[k + 1])
        with tempfile.TemporaryDirectory() as workdir, ocp.StandardCheckpointer() as checkpointer:
            path = os.path.join(workdir, "state")
            checkpointer.save(path, state)
            checkpointer.wait_until_finished()
            restored = checkpointer.restore(path, jax.tree.map(ocp.utils.to_shape_dtype_struct, state))
        chex.assert_trees_all_equal_structs(restored, state)
        for k in range(6, 12, 2):
            restored, _ = step(restored, keys[k], keys[k + 1])
        chex.assert_trees_all_equal(restored, uninterrupted)
