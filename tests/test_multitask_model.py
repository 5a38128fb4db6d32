"""Multitask network and loss: parameter counts, the uncertainty weighting, masking, and PyTorch parity."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

from exvo_jax.models.multitask import (
    MultitaskNet,
    TaskSpec,
    exvo_tasks,
    parameter_count,
    task_losses,
    uncertainty_weighted,
)
from exvo_jax.tracks.multitask import seeds


def init(dim: int, tasks=None, seed: int = 0):
    model = MultitaskNet(tasks or exvo_tasks())
    return model, jax.jit(model.init)(jax.random.PRNGKey(seed), jnp.zeros((1, dim)))["params"]


def batch(rng: np.random.Generator, n: int, dim: int):
    x = rng.normal(size=(n, dim)).astype(np.float32)
    targets = {
        "emotion": rng.uniform(size=(n, 10)).astype(np.float32),
        "age": rng.uniform(18, 40, size=(n,)).astype(np.float32),
        "country": rng.integers(0, 4, size=(n,)).astype(np.int32),
    }
    return x, targets


@pytest.mark.parametrize("dim, expected", [(6373, 831_250), (88, 26_770)])
def test_parameter_count_matches_the_baseline_including_three_loss_weights(dim, expected):
    model = MultitaskNet(exvo_tasks())
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, dim)))["params"]
    assert parameter_count(shapes) == expected
    _, params = init(8)
    np.testing.assert_allclose(np.asarray(params["loss_log_var"]), [-0.33] * 3)


def test_heads_follow_the_task_spec_and_intensities_are_sigmoids():
    tasks = (TaskSpec("type", "classification", 16), TaskSpec("age", "regression", 1), TaskSpec("mood", "intensity", 3))
    model, params = init(20, tasks)
    outputs, log_var = model.apply({"params": params}, jnp.ones((5, 20)) * 50)
    assert {k: v.shape for k, v in outputs.items()} == {"type": (5, 16), "age": (5, 1), "mood": (5, 3)}
    assert log_var.shape == (3,)
    assert float(outputs["mood"].min()) >= 0 and float(outputs["mood"].max()) <= 1
    with pytest.raises(ValueError, match="unknown kind"):
        TaskSpec("x", "ranking", 2)
    with pytest.raises(ValueError, match="too small"):
        TaskSpec("x", "classification", 1)


def test_loss_is_the_uncertainty_weighted_sum_of_the_three_task_losses():
    rng = np.random.default_rng(0)
    model, params = init(8)
    x, t = batch(rng, 6, 8)
    outputs, log_var = model.apply({"params": params}, x)
    mask = jnp.ones(6)
    losses = task_losses(model.tasks, outputs, t, mask)
    e = np.asarray(outputs["emotion"])
    expected_emotion = ((e - t["emotion"]) ** 2).mean(0).sum()  # sum over emotions of per-emotion MSE
    expected_age = ((np.asarray(outputs["age"])[:, 0] - t["age"]) ** 2).mean()
    expected_country = float(optax.softmax_cross_entropy_with_integer_labels(outputs["country"], t["country"]).mean())
    np.testing.assert_allclose(np.asarray(losses), [expected_emotion, expected_age, expected_country], rtol=1e-5)
    s = np.asarray(log_var)
    total = sum(np.exp(-s[i]) / 2 * float(losses[i]) + s[i] / 2 for i in range(3))
    np.testing.assert_allclose(float(uncertainty_weighted(losses, log_var)), total, rtol=1e-6)


def test_masked_rows_do_not_change_the_loss_or_its_gradient():
    rng = np.random.default_rng(1)
    model, params = init(8)
    x, t = batch(rng, 8, 8)
    loss_fn = seeds.make_loss_fn(model, seeds.Hyper())
    mask = jnp.array([1, 1, 1, 1, 1, 0, 0, 0], jnp.float32)
    garbage_x = x.copy()
    garbage_x[5:] = 1e3
    grad = jax.jit(jax.grad(lambda p, x, t, m: loss_fn(p, x, t, m)[0]))
    full = grad(params, x[:5], {k: v[:5] for k, v in t.items()}, jnp.ones(5))
    masked = grad(params, garbage_x, t, mask)
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(masked)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)


def test_ccc_loss_option_rewards_concordance():
    task = (TaskSpec("emotion", "intensity", 2),)
    target = {"emotion": jnp.array([[0.1, 0.9], [0.5, 0.2], [0.9, 0.4]])}
    mask = jnp.ones(3)
    perfect = task_losses(task, {"emotion": target["emotion"]}, target, mask, "ccc")
    constant = task_losses(task, {"emotion": jnp.full((3, 2), 0.5)}, target, mask, "ccc")
    np.testing.assert_allclose(np.asarray(perfect), [0.0], atol=1e-5)
    np.testing.assert_allclose(np.asarray(constant), [2.0], atol=1e-5)  # CCC 0 on both columns


@pytest.mark.parametrize("scheme", ["flax", "torch"])
def test_initialisation_schemes(scheme):
    """flax: LeCun normal weights (std 1/sqrt(fan_in) = 0.0125 at D=6373), zero biases; torch (PyTorch's
    nn.Linear default): weights and biases uniform in +-1/sqrt(fan_in), std 0.0072 in the first layer."""
    dim = 6373
    model = MultitaskNet(exvo_tasks(), init_scheme=scheme)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), jnp.zeros((1, dim)))["params"]
    kernel = np.asarray(params["dense_0"]["kernel"])  # [6373, 128]
    dense = [layer for name, layer in params.items() if name != "loss_log_var" and "kernel" in layer]
    expected_std = {"flax": 1 / np.sqrt(dim), "torch": 1 / np.sqrt(3 * dim)}[scheme]
    np.testing.assert_allclose(kernel.std(), expected_std, rtol=0.01)
    assert round(float(kernel.std()), 4) == {"flax": 0.0125, "torch": 0.0072}[scheme]
    # Biases scaled by sqrt(fan_in), pooled over all seven Dense layers (303 values).
    scaled = np.concatenate([np.asarray(layer["bias"]) * np.sqrt(layer["kernel"].shape[0]) for layer in dense])
    if scheme == "flax":
        assert not scaled.any()
    else:
        assert np.abs(kernel).max() <= 1 / np.sqrt(dim)
        assert np.abs(scaled).max() <= 1.0 and np.count_nonzero(scaled) == scaled.size
        assert stats.kstest(scaled, stats.uniform(loc=-1, scale=2).cdf).pvalue > 0.01
    np.testing.assert_array_equal(params["norm_0"]["scale"], 1.0)
    np.testing.assert_array_equal(params["norm_0"]["bias"], 0.0)


def test_unknown_initialisation_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown init_scheme 'xavier'"):
        MultitaskNet(exvo_tasks(), init_scheme="xavier").init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))


def test_pytorch_reference_matches_outputs_loss_and_a_train_step():
    torch = pytest.importorskip("torch")
    from benchmarks.torch_reference.multitask import TorchMultitaskNet, load_flax_params, loss, optimizer, train_step

    rng = np.random.default_rng(2)
    dim = 64
    model, params = init(dim, seed=3)
    x, t = batch(rng, 8, dim)
    reference = TorchMultitaskNet(dim, [(s.name, s.kind, s.size) for s in model.tasks])
    load_flax_params(reference, params)
    tx_targets = {k: torch.from_numpy(v) for k, v in t.items()}
    outputs = reference(torch.from_numpy(x))
    jax_outputs, _ = model.apply({"params": params}, x)
    for name in jax_outputs:
        np.testing.assert_allclose(outputs[name].detach().numpy(), np.asarray(jax_outputs[name]), atol=1e-5)
    loss_fn = seeds.make_loss_fn(model, seeds.Hyper())
    jax_loss = float(jax.jit(loss_fn)(params, x, t, jnp.ones(8))[0])
    np.testing.assert_allclose(float(loss(reference, outputs, tx_targets).detach()), jax_loss, rtol=1e-5)

    # Three optimiser steps (Adam, coupled L2) from the same weights give the same weights.
    tx = seeds.optimizer(seeds.Hyper())
    opt_state, p = tx.init(params), params
    opt = optimizer(reference)

    @jax.jit
    def step(p, opt_state):
        grads = jax.grad(lambda q: loss_fn(q, x, t, jnp.ones(8))[0])(p)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state

    for _ in range(3):
        p, opt_state = step(p, opt_state)
        train_step(reference, opt, torch.from_numpy(x), tx_targets)
    np.testing.assert_allclose(reference.trunk[0].weight.detach().numpy().T, np.asarray(p["dense_0"]["kernel"]), atol=1e-5)
    np.testing.assert_allclose(reference.log_var.detach().numpy(), np.asarray(p["loss_log_var"]), atol=1e-5)
    np.testing.assert_allclose(reference.heads["country"][2].weight.detach().numpy().T,
                               np.asarray(p["country_out"]["kernel"]), atol=1e-5)
