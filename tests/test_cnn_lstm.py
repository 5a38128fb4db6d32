"""Few-shot model: parameter count, framing, masked batch norm, PyTorch parity (forward and adaptation)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from exvo_jax.data.padding import pad_batch
from exvo_jax.models.cnn_lstm import CnnLstm64, CnnLstm128, CnnLstm256, CnnLstm, CnnLstmTiny, MaskedBatchNorm
from exvo_jax.recognition.framing import frame_wave
from exvo_jax.recognition.inference import encode_program, predict_program
from exvo_jax.tracks.fewshot.adapt import AdaptSettings, SpeakerTask, personalise


def n_params(model) -> int:
    shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 2, 1600)), jnp.ones((1, 2), bool))
    return sum(x.size for x in jax.tree.leaves(shapes["params"]))


def lstm_params(features: int, hidden: int) -> int:
    return 4 * hidden * (features + hidden) + 8 * hidden  # PyTorch layout: two bias vectors


def test_parameter_count_matches_the_reference():
    assert n_params(CnnLstm256()) == 1_565_002
    encoder = 1_565_002 - lstm_params(512, 256) - lstm_params(256, 256) - (256 * 10 + 10)
    for model, hidden in ((CnnLstm64(), 64), (CnnLstm128(), 128)):
        expected = encoder + lstm_params(512, hidden) + lstm_params(hidden, hidden) + hidden * 10 + 10
        assert n_params(model) == expected


def test_framing_pads_short_clips_drops_remainder_and_caps_frames():
    assert frame_wave(np.ones(100, np.float32)).shape == (1, 1600)
    assert frame_wave(np.ones(100, np.float32))[0, 100:].sum() == 0
    assert frame_wave(np.arange(5000, dtype=np.float32)).shape == (3, 1600)
    assert frame_wave(np.zeros(1600 * 300, np.float32), max_frames=200).shape == (200, 1600)
    with pytest.raises(ValueError, match="mono waveform"):
        frame_wave(np.zeros((2, 1600), np.float32))


def test_masked_batch_norm_ignores_padded_rows():
    bn = MaskedBatchNorm()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    mask = np.array([1, 1, 0, 1, 0, 0], bool)
    variables = bn.init(jax.random.key(0), x, mask, False)
    noisy = x.copy()
    noisy[~mask] = rng.normal(scale=100.0, size=noisy[~mask].shape)
    out_a, stats_a = bn.apply(variables, x, mask, True, mutable=["batch_stats"])
    out_b, stats_b = bn.apply(variables, noisy, mask, True, mutable=["batch_stats"])
    np.testing.assert_allclose(out_a[mask], out_b[mask], rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(stats_a), jax.tree.leaves(stats_b)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    valid = x[mask].reshape(-1, 3)
    np.testing.assert_allclose(stats_a["batch_stats"]["mean"], 0.1 * valid.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats_a["batch_stats"]["var"], 0.9 + 0.1 * valid.var(0, ddof=1), rtol=1e-5)


def test_padding_frames_do_not_change_outputs_or_statistics():
    model = CnnLstmTiny()
    rng = np.random.default_rng(1)
    frames = rng.normal(size=(2, 5, 1600)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    variables = jax.jit(model.init)(jax.random.key(0), frames, mask)
    noisy = frames.copy()
    noisy[0, 3:] = rng.normal(scale=50.0, size=(2, 1600))
    apply = jax.jit(lambda v, x: model.apply(v, x, mask, train=True, mutable=["batch_stats"]))
    out_a, stats_a = apply(variables, frames)
    out_b, stats_b = apply(variables, noisy)
    np.testing.assert_allclose(out_a[mask], out_b[mask], rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(stats_a), jax.tree.leaves(stats_b)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.fixture(scope="module")
def torch_pair():
    torch = pytest.importorskip("torch")
    from benchmarks.torch_reference.fewshot import TorchCnnLstm, load_flax_params

    model = CnnLstm(hidden=24, outputs=10, channels=(8, 16, 32))
    rng = np.random.default_rng(2)
    variables = jax.jit(model.init)(jax.random.key(3), np.zeros((1, 2, 1600), np.float32), np.ones((1, 2), bool))
    # Non-trivial running statistics and biases, so the mapping of every tensor is exercised.
    variables = jax.tree.map(lambda v: v + 0.1 * rng.normal(size=v.shape).astype(np.float32), variables)
    variables["batch_stats"] = jax.tree.map(jnp.abs, variables["batch_stats"])
    reference = load_flax_params(TorchCnnLstm(24, 10, (8, 16, 32)), variables).eval()
    return torch, model, variables, reference


def test_forward_matches_pytorch(torch_pair):
    torch, model, variables, reference = torch_pair
    frames = np.random.default_rng(4).normal(size=(3, 6, 1600)).astype(np.float32)
    ours = jax.jit(model.apply)(variables, frames, np.ones((3, 6), bool))
    with torch.no_grad():
        theirs = reference(torch.from_numpy(frames)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_adaptation_matches_a_pytorch_loop_over_speakers(torch_pair):
    torch, model, variables, reference = torch_pair
    from benchmarks.torch_reference.fewshot import adapt_cached

    rng = np.random.default_rng(5)
    tasks, torch_speakers = [], []
    for s in range(3):
        support = [rng.normal(size=(n, 64)).astype(np.float32) for n in (4, 6)]
        query = [rng.normal(size=(n, 64)).astype(np.float32) for n in (5, 3)]
        targets = rng.uniform(size=(2, 10)).astype(np.float32)
        tasks.append(SpeakerTask(str(s), tuple(support), targets, tuple(query)))
        sx, sm = pad_batch(support, 6)
        qx, qm = pad_batch(query, 6)
        torch_speakers.append(tuple(torch.from_numpy(a) for a in (sx, sm.sum(1), targets, qx, qm.sum(1))))
    settings = AdaptSettings(mode="full", steps=5, learning_rate=1e-2, strategy="map")
    ours = personalise(variables["params"]["head"], tasks, settings, hidden=24, outputs=10, buckets=(6,))
    theirs = adapt_cached(reference, torch_speakers, steps=5, lr=1e-2, weight_decay=0.01)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_grouped_encoder_and_predictions_equal_one_pass():
    model = CnnLstmTiny()
    frames = jax.random.normal(jax.random.key(3), (3, 5, 1600))
    mask = jnp.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)
    variables = model.init(jax.random.key(4), frames, mask)
    variables = {"params": variables["params"],  # non-trivial running statistics
                 "batch_stats": jax.tree.map(lambda v: v + 0.5, variables["batch_stats"])}
    whole = encode_program(model, None)(variables, frames, mask)
    expected = model.apply(variables, frames, mask, method=CnnLstm.encode)
    np.testing.assert_allclose(whole, expected, rtol=1e-6, atol=1e-6)
    for group in (4, 16):  # 15 frames: a padded last group, and one group larger than the batch
        np.testing.assert_allclose(encode_program(model, group)(variables, frames, mask), whole, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(predict_program(model, group)(variables, frames, mask),
                                   predict_program(model, None)(variables, frames, mask), rtol=1e-5, atol=1e-6)
    lengths = mask.sum(1)
    reference = model.apply(variables, frames, mask)[jnp.arange(3), lengths - 1]
    np.testing.assert_allclose(predict_program(model, 4)(variables, frames, mask), reference, rtol=1e-5, atol=1e-6)
