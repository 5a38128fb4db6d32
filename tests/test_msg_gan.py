"""MSG-GAN networks and the RaHinge loss: parameter counts, shapes, layers, per-call statistics, conditioning."""

from __future__ import annotations

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.tracks.generate.condition import clip_conditions
from exvo_jax.tracks.generate.losses import ema_update, rahinge_discriminator_loss, rahinge_generator_loss
from exvo_jax.models.msg_gan import (
    EqualConv,
    EqualDense,
    channel_schedule,
    mel_pyramid,
    minibatch_stddev,
    msg_gan,
    msg_gan_baseline,
    msg_gan_conditional,
    msg_gan_tiny,
    pixel_norm,
    scale_shapes,
    upsample2x,
)


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


def param_counts(gan) -> tuple[int, int]:
    g, d = gan
    z = jax.ShapeDtypeStruct((2, g.latent_size), jnp.float32)
    scales = [jax.ShapeDtypeStruct((2, h, w, 1), jnp.float32) for h, w in scale_shapes(g.depth, g.base_shape)]
    condition = jax.ShapeDtypeStruct((2, g.num_classes), jnp.float32) if g.num_classes else None
    g_shapes = jax.eval_shape(g.init, jax.random.key(0), z, condition)
    d_shapes = jax.eval_shape(d.init, jax.random.key(0), scales, condition)
    return count(g_shapes["params"]), count(d_shapes["params"])


def test_parameter_counts_match_the_reference():
    assert channel_schedule(7, 512) == (512, 512, 512, 512, 256, 128, 64)
    assert param_counts(msg_gan_baseline()) == (23_039_303, 18_730_625)
    assert param_counts(msg_gan(depth=4, latent_size=512)) == (20_715_524, 17_181_441)
    assert param_counts(msg_gan_tiny()) == (20_420, 17_113)
    g, d = param_counts(msg_gan_conditional())
    assert (g, d) == (23_039_303 + 10 * 512, 18_730_625 + 10 * 512)


def normal(shape, seed: int = 0) -> jax.Array:
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def random_variables(module, *args, seed: int = 0):
    """Variables of `module` filled with numpy normals (no RNG program to compile; init itself is tested below)."""
    rng = np.random.default_rng(seed)
    shapes = jax.eval_shape(module.init, jax.random.key(0), *args)
    return jax.tree.map(lambda x: jnp.asarray(rng.normal(size=x.shape), x.dtype), shapes)  # biases too


@pytest.fixture(scope="module")
def tiny():
    g, d = msg_gan_tiny()
    z = normal((3, 16), seed=1)
    g_vars = random_variables(g, z, seed=2)
    g_apply, d_apply = jax.jit(g.apply), jax.jit(d.apply)
    fakes = g_apply(g_vars, z)
    d_vars = random_variables(d, fakes, seed=3)
    return g, d, g_vars, d_vars, z, fakes, g_apply, d_apply


def test_generator_outputs_one_mel_per_scale_and_discriminator_scores(tiny):
    g, d, g_vars, d_vars, z, fakes, g_apply, d_apply = tiny
    chex.assert_shape(fakes, [(3, 2, 8, 1), (3, 4, 16, 1), (3, 8, 32, 1), (3, 16, 64, 1)])
    assert scale_shapes(7)[-1] == (128, 512)
    scores = d_apply(d_vars, fakes)  # jitted
    chex.assert_shape(scores, (3,))
    chex.assert_tree_all_finite((fakes, scores))
    with pytest.raises(ValueError, match="unconditional"):
        jax.eval_shape(g.apply, g_vars, z, jnp.ones((3, 10)))


def test_mel_pyramid_average_pools_by_powers_of_two():
    mel = normal((2, 16, 64, 1))
    pyramid = mel_pyramid(mel, 4)
    chex.assert_shape(pyramid, [(2, 2, 8, 1), (2, 4, 16, 1), (2, 8, 32, 1), (2, 16, 64, 1)])
    expected = np.asarray(mel).reshape(2, 2, 8, 8, 8, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(pyramid[0], expected, rtol=1e-5, atol=1e-6)
    assert pyramid[-1] is mel
    with pytest.raises(ValueError, match="cannot be pooled"):
        mel_pyramid(mel, 6)


def torch_style_upsample2x(x: np.ndarray) -> np.ndarray:
    """F.interpolate(scale_factor=2, mode='bilinear', align_corners=False) on a [H, W] array, in numpy."""
    def axis_weights(n: int):
        src = np.maximum((np.arange(2 * n) + 0.5) / 2 - 0.5, 0.0)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, n - 1)
        frac = src - low
        matrix = np.zeros((2 * n, n))
        np.add.at(matrix, (np.arange(2 * n), low), 1 - frac)
        np.add.at(matrix, (np.arange(2 * n), high), frac)
        return matrix
    return axis_weights(x.shape[0]) @ x @ axis_weights(x.shape[1]).T


def test_bilinear_upsampling_matches_align_corners_false():
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    ours = upsample2x(jnp.asarray(x)[None, :, :, None])[0, :, :, 0]
    np.testing.assert_allclose(ours, torch_style_upsample2x(x), rtol=1e-5, atol=1e-6)


def test_equalised_learning_rate_scales_weights_at_run_time():
    dense, conv = EqualDense(64), EqualConv(2, (3, 3))
    x = jnp.zeros((1, 3, 3, 5)).at[0, 0, 0, 1].set(1.0)  # a single input pixel at the corner
    init = jax.jit(lambda key: (dense.init(key, jnp.zeros((1, 6))), conv.init(key, x)))
    dense_vars, conv_vars = init(jax.random.key(0, impl="rbg"))
    kernel = dense_vars["params"]["kernel"]  # [6, 64]: N(0, 1) at rest
    assert 0.85 < float(jnp.std(kernel)) < 1.15 and not jnp.any(dense_vars["params"]["bias"])
    np.testing.assert_allclose(dense.apply(dense_vars, jnp.eye(6)), kernel * math.sqrt(2 / 6), rtol=1e-6)
    kernel = conv_vars["params"]["kernel"]  # [3, 3, 5, 2]
    out = conv.apply(conv_vars, x)
    np.testing.assert_allclose(out[0, 1, 1], kernel[0, 0, 1] * math.sqrt(2 / (9 * 5)), rtol=1e-6)


def test_pixel_norm_and_latent_rescaling():
    x = jnp.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(pixel_norm(x)[0], np.array([3.0, 4.0]) / math.sqrt(12.5), rtol=1e-6)
    assert not jnp.any(pixel_norm(x)[1])
    z = normal((4, 16)) * 7.0
    np.testing.assert_allclose(jnp.linalg.norm(pixel_norm(z), axis=-1), np.full(4, 4.0), rtol=1e-5)


def test_minibatch_stddev_is_a_statistic_of_one_call():
    x = normal((4, 2, 3, 5))
    out = minibatch_stddev(x)
    chex.assert_shape(out, (4, 2, 3, 6))
    expected = np.sqrt(np.asarray(x).var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(out[..., -1], np.full((4, 2, 3), expected), rtol=1e-5)
    np.testing.assert_array_equal(out[..., :-1], x)
    joint = minibatch_stddev(jnp.concatenate([x, x + 3.0 * x[::-1]]))  # real and fake in one batch
    assert not np.allclose(joint[:4, ..., -1], out[..., -1])  # would share one statistic: never do this


def with_label_embed(variables, kernel):
    return {"params": {**variables["params"], "label_embed": {"kernel": kernel}}}


def test_conditioning_off_is_the_unconditional_net(tiny):
    g, d, g_vars, d_vars, z, fakes, g_apply, d_apply = tiny
    assert msg_gan(depth=4, latent_size=16, num_classes=0) == msg_gan_tiny()
    cg, cd = msg_gan_tiny(num_classes=10)
    intensities = np.random.default_rng(4).uniform(size=(3, 10))
    condition = jnp.asarray(clip_conditions(intensities, "soft"))
    kernels = []
    for module, plain, args in ((cg, g_vars, (z, condition)), (cd, d_vars, (fakes, condition))):
        shapes = dict(jax.eval_shape(module.init, jax.random.key(0), *args)["params"])
        embed = shapes.pop("label_embed")  # the only extra parameters
        assert jax.tree.map(lambda x: x.shape, shapes) == jax.tree.map(lambda x: x.shape, plain["params"])
        assert set(embed) == {"kernel"} and embed["kernel"].shape[0] == 10
        kernels.append(jnp.asarray(np.random.default_rng(6).normal(size=embed["kernel"].shape), jnp.float32))
    cg_apply = jax.jit(cg.apply)
    zero_g, zero_d = (with_label_embed(v, jnp.zeros_like(k)) for v, k in zip((g_vars, d_vars), kernels))
    chex.assert_trees_all_close(cg_apply(zero_g, z, condition), fakes, rtol=1e-5, atol=1e-5)
    cg_vars, cd_vars = (with_label_embed(v, k) for v, k in zip((g_vars, d_vars), kernels))
    conditional_fakes = cg_apply(cg_vars, z, condition)
    assert not np.allclose(conditional_fakes[-1], fakes[-1])
    fake_condition = jnp.asarray(clip_conditions(intensities, "hard"))
    cd_apply = jax.jit(cd.apply)
    zero_scores = (cd_apply(zero_d, fakes, condition), cd_apply(zero_d, conditional_fakes, fake_condition))
    separate = (d_apply(d_vars, fakes), d_apply(d_vars, conditional_fakes))  # the unconditional D
    chex.assert_trees_all_close(zero_scores, separate, rtol=1e-4, atol=1e-4)
    d_real = cd_apply(cd_vars, fakes, condition)
    assert not np.allclose(d_real, zero_scores[0], atol=1e-3)  # the projection term counts
    with pytest.raises(ValueError, match="needs a"):
        jax.eval_shape(cd.apply, cd_vars, fakes)


def test_rahinge_on_a_hand_computed_example_and_ema():
    d_real, d_fake = jnp.array([0.5, -0.5]), jnp.array([0.25, 1.0])
    # D: 1 - (Dr - 0.625) = [1.125, 2.125]; 1 + (Df - 0) = [1.25, 2.0] -> 1.625 + 1.625
    np.testing.assert_allclose(rahinge_discriminator_loss(d_real, d_fake), 3.25, rtol=1e-6)
    # G: relu(1 + (Dr - 0.625)) = [0.875, 0]; relu(1 - (Df - 0)) = [0.75, 0] -> 0.4375 + 0.375
    np.testing.assert_allclose(rahinge_generator_loss(d_real, d_fake), 0.8125, rtol=1e-6)
    ema = ema_update({"w": jnp.ones(2)}, {"w": jnp.zeros(2)}, decay=0.9)
    np.testing.assert_allclose(ema["w"], [0.9, 0.9], rtol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        ema_update(ema, ema, decay=1.5)
