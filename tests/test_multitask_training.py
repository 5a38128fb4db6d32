"""Multi-seed training program: batching, map/vmap equality, early stopping, best/last restore, exact resume."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.data.errors import DataError
from exvo_jax.models.multitask import MultitaskNet
from exvo_jax.tracks.multitask import seeds
from exvo_jax.tracks.multitask.data import MultitaskData
from exvo_jax.tracks.multitask import training as train
from tests.support.configs import multitask_settings
from tests.support.in_memory_runs import fit_multitask
from tests.support.multitask_data import TASKS, small_data


@pytest.fixture(scope="module")
def data() -> MultitaskData:
    # 37 training rows: the last batch of 8 is partial (5 rows) and must be masked, not dropped.
    return small_data()


fit = fit_multitask


def test_batch_plan_visits_every_row_once_and_masks_the_padded_tail():
    index, mask = seeds.batch_plan(jax.random.PRNGKey(0), 37, 8)
    assert index.shape == mask.shape == (5, 8)
    assert float(mask.sum()) == 37 and float(mask[-1].sum()) == 5
    assert sorted(np.asarray(index)[np.asarray(mask) > 0].tolist()) == list(range(37))
    other, _ = seeds.batch_plan(jax.random.PRNGKey(1), 37, 8)
    assert not np.array_equal(np.asarray(index), np.asarray(other))  # reshuffled per key


def test_map_and_vmap_strategies_give_the_same_training(data, tmp_path):
    by_map, _, _ = fit(multitask_settings(strategy="map"), data, tmp_path / "map")
    by_vmap, _, _ = fit(multitask_settings(strategy="vmap"), data, tmp_path / "vmap")
    np.testing.assert_allclose(np.asarray(by_map.val_loss), np.asarray(by_vmap.val_loss), rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(by_map.params), jax.tree_util.tree_leaves(by_vmap.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    # Seeds differ from one another (separate initialisation and shuffling).
    assert not np.allclose(np.asarray(by_map.val_loss[0]), np.asarray(by_map.val_loss[1]))


def test_resuming_from_a_checkpoint_reaches_exactly_the_uninterrupted_result(data, tmp_path):
    config = multitask_settings()
    fit(config, data, tmp_path / "resumed", stop_after=2)
    resumed, _, _ = fit(config, data, tmp_path / "resumed")
    straight, _, _ = fit(config, data, tmp_path / "straight")
    assert np.asarray(resumed.epoch).tolist() == [4, 4, 4]
    for a, b in zip(jax.tree_util.tree_leaves(resumed), jax.tree_util.tree_leaves(straight)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_early_stopping_freezes_a_seed_after_patience_epochs_without_min_delta_gain(data, tmp_path):
    # A min delta no epoch can reach: every epoch after the first is "bad", so seeds stop after 1 + patience.
    states, _, _ = fit(multitask_settings(patience=2, min_delta=1e9), data, tmp_path)
    assert np.asarray(states.epoch).tolist() == [3, 3, 3]  # of max_epochs=4
    assert np.all(np.asarray(states.stopped))
    assert np.all(np.isnan(np.asarray(states.val_loss)[:, 3:]))
    assert np.all(np.isfinite(np.asarray(states.val_loss)[:, :3]))


def test_best_params_are_those_of_the_lowest_validation_loss_epoch(data, tmp_path):
    states, _, _ = fit(multitask_settings(), data, tmp_path)
    val = np.asarray(states.val_loss)
    assert np.asarray(states.best_epoch).tolist() == np.argmin(val, axis=1).tolist()
    np.testing.assert_allclose(np.asarray(states.best_loss), val.min(axis=1))
    assert seeds.final_params(states, "last") is states.params
    with pytest.raises(ValueError, match="restore must be"):
        seeds.final_params(states, "middle")


def test_coupled_weight_decay_is_added_to_the_gradient_before_adam():
    hyper = seeds.Hyper(learning_rate=0.1, weight_decay=0.5)
    tx = seeds.optimizer(hyper)
    params = {"w": jnp.array([2.0])}
    updates, _ = tx.update({"w": jnp.array([0.0])}, tx.init(params), params)
    # Adam's first step is -lr * sign(g'), with g' = g + wd * w = 1.0 > 0 here; decoupled decay would give 0.1 * 0.5 * 2.
    np.testing.assert_allclose(np.asarray(updates["w"]), [-0.1], rtol=1e-4)


def test_the_cosine_schedule_decays_the_rate_to_zero_over_the_whole_budget(data):
    """`lr_schedule="cosine"` spans max_epochs x batches per epoch (the partial last batch counted); Adam's
    first steps on a constant gradient are then -lr_t with lr_t on the cosine."""
    rows = len(data.train)
    assert train.hyper_from(multitask_settings(), data).decay_steps == 0
    assert train.hyper_from(multitask_settings(lr_schedule="cosine"), data).decay_steps == 4 * -(-rows // 8)
    with pytest.raises(DataError, match="lr_schedule must be one of constant, cosine, got 'linear'"):
        multitask_settings(lr_schedule="linear")
    tx = seeds.optimizer(seeds.Hyper(learning_rate=0.1, weight_decay=0.0, decay_steps=4))
    params, steps = {"w": jnp.array([0.0])}, []
    state = tx.init(params)
    for _ in range(5):
        updates, state = tx.update({"w": jnp.array([1.0])}, state, params)
        steps.append(float(updates["w"][0]))
    expected = [-0.1 * 0.5 * (1 + np.cos(np.pi * t / 4)) for t in range(5)]  # 0.1, 0.085, 0.05, 0.015, 0
    np.testing.assert_allclose(steps, expected, rtol=1e-4, atol=1e-7)


def test_input_dropout_is_seeded_and_changes_training(data, tmp_path):
    plain, _, _ = fit(multitask_settings(), data, tmp_path / "plain")
    dropped, _, _ = fit(multitask_settings(input_dropout=0.5), data, tmp_path / "dropped")
    again, _, _ = fit(multitask_settings(input_dropout=0.5), data, tmp_path / "again")
    np.testing.assert_array_equal(np.asarray(dropped.val_loss), np.asarray(again.val_loss))
    assert not np.allclose(np.asarray(dropped.val_loss), np.asarray(plain.val_loss))
    assert np.all(np.isfinite(np.asarray(dropped.val_loss)))


def test_bad_settings_are_rejected_with_the_setting_named():
    with pytest.raises(DataError, match="input_dropout"):
        multitask_settings(input_dropout=1.0)
    with pytest.raises(DataError, match="intensity_loss"):
        multitask_settings(intensity_loss="mae")
    with pytest.raises(DataError, match="batch_size"):
        multitask_settings(batch_size=0)
    with pytest.raises(ValueError, match="patience"):
        seeds.Stopping.create(patience=0)
    with pytest.raises(ValueError, match="unknown strategy"):
        seeds.epoch_program(MultitaskNet(TASKS), seeds.Hyper(), "pmap")


def test_regression_targets_are_standardised_on_train_only_when_asked(data):
    from exvo_jax.features.scaling import StandardScaler
    from exvo_jax.tracks.multitask.data import scaled_split, target_scaling

    assert target_scaling(multitask_settings(), data) == {}  # the baseline trains on age in years
    scaling = target_scaling(multitask_settings(scale_targets=True), data)
    assert set(scaling) == {"age"}
    mean, std = scaling["age"]
    np.testing.assert_allclose([mean, std], [data.train.labels["age"].mean(), data.train.labels["age"].std()], rtol=1e-5)
    _, labels = scaled_split(data.val, StandardScaler.fit(data.train.features), data.tasks, scaling)
    np.testing.assert_allclose(np.asarray(labels["age"]), (data.val.labels["age"] - mean) / std, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(labels["country"]), data.val.labels["country"])


def test_balanced_class_weights_make_every_class_weigh_the_same(data):
    from exvo_jax.models.multitask import task_loss
    from exvo_jax.tracks.multitask.data import class_weights

    assert class_weights(multitask_settings(), data) == {}
    weights = class_weights(multitask_settings(balance_classes=True), data)["country"]
    counts = np.bincount(data.train.labels["country"], minlength=4)
    np.testing.assert_allclose(np.asarray(weights) * counts, len(data.train) / 4)  # equal total weight per class
    logits, target, mask = jnp.zeros((3, 4)), jnp.array([0, 1, 1]), jnp.ones(3)
    plain = task_loss(TASKS[2], logits, target, mask)
    weighted = task_loss(TASKS[2], logits, target, mask, class_weights=(2.0, 0.5, 1.0, 1.0))
    np.testing.assert_allclose(weighted, plain * (2.0 + 0.5 + 0.5) / 3, rtol=1e-6)
    assert train.hyper_from(multitask_settings(balance_classes=True), data).class_weights == (("country", weights),)
