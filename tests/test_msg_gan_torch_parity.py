"""MSG-GAN against the PyTorch reference with shared weights: outputs, losses, a training step, ExtraAdam."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

torch = pytest.importorskip("torch", reason="PyTorch (the reference implementation) is not installed")

from benchmarks.generate import (  # noqa: E402
    BETAS,
    D_LR,
    FAST_COMPILE,
    G_LR,
    adam,
    baseline_step,
    init_state,
    inputs,
    random_params,
)
from benchmarks.torch_reference import msg_gan as ref  # noqa: E402
from exvo_jax.tracks.generate.losses import rahinge_discriminator_loss, rahinge_generator_loss  # noqa: E402
from exvo_jax.tracks.generate.steps import joint_gradients  # noqa: E402
from exvo_jax.models.msg_gan import mel_pyramid, msg_gan_tiny  # noqa: E402
from exvo_jax.optim import GameState, Player, extragradient, extragradient_step  # noqa: E402

DEPTH, LATENT, BATCH = 4, 16, 4
# Adam's eps in the parity steps. Some gradients are 0 in exact arithmetic (the relativistic loss does not
# change when every D score moves by the same constant: D's score bias, and final_valid biases of units
# active on every sample), and float noise (~1e-8) on them becomes a step of up to lr under eps = 1e-8.
# With eps = 1e-4 such noise moves a parameter by < 1e-6, while ordinary gradients (~1e-1) stay normalised.
EPS = 1e-4


def nchw(x) -> torch.Tensor:
    return torch.from_numpy(np.asarray(x)).permute(0, 3, 1, 2).contiguous()


def nhwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().permute(0, 2, 3, 1).numpy()


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    gan = msg_gan_tiny()
    g_params, d_params = random_params(gan, seed=0)
    mel, z = inputs(DEPTH, LATENT, BATCH, seed=1)
    return gan, g_params, d_params, mel, z


def torch_gan(g_params, d_params, **kwargs) -> ref.TorchGAN:
    reference = ref.TorchGAN(DEPTH, LATENT, **kwargs)
    ref.load_flax_params(reference.g, reference.d, g_params, d_params)
    reference.sync_ema()
    return reference


def test_reference_parameter_counts_and_layout_round_trip(setup):
    _, g_params, d_params, _, _ = setup
    with torch.device("meta"):
        for depth, latent, expected in ((7, 512, (23_039_303, 18_730_625)), (4, 16, (20_420, 17_113))):
            counts = tuple(sum(p.numel() for p in m.parameters())
                           for m in (ref.TorchGenerator(depth, latent), ref.TorchDiscriminator(depth, latent)))
            assert counts == expected
    reference = torch_gan(g_params, d_params)
    chex.assert_trees_all_equal(ref.flax_layout(reference.g, reference.d), {"g": g_params, "d": d_params})


def test_outputs_scores_and_losses_agree(setup):
    gan, g_params, d_params, mel, z = setup
    g, d = gan
    fakes = jax.jit(g.apply, compiler_options=FAST_COMPILE)({"params": g_params}, z)
    reals = mel_pyramid(mel, DEPTH)
    critic = jax.jit(d.apply, compiler_options=FAST_COMPILE)
    d_real, d_fake = critic({"params": d_params}, reals), critic({"params": d_params}, fakes)
    reference = torch_gan(g_params, d_params)
    with torch.no_grad():
        t_fakes = reference.g(torch.from_numpy(z))
        t_reals = ref.mel_pyramid(nchw(mel), DEPTH)
        t_real, t_fake = reference.d(t_reals), reference.d(t_fakes)
    for ours, theirs in zip(fakes, t_fakes, strict=True):
        np.testing.assert_allclose(ours, nhwc(theirs), rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(reals, t_reals, strict=True):
        np.testing.assert_allclose(ours, nhwc(theirs), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(d_real, t_real.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d_fake, t_fake.numpy(), rtol=1e-5, atol=1e-5)
    scores = [np.random.default_rng(seed).normal(size=8).astype(np.float32) for seed in (2, 3)]
    t_scores = [torch.from_numpy(s) for s in scores]
    for ours, theirs in ((rahinge_discriminator_loss, ref.rahinge_discriminator_loss),
                         (rahinge_generator_loss, ref.rahinge_generator_loss)):
        np.testing.assert_allclose(ours(*scores), theirs(*t_scores).item(), rtol=1e-6)


def assert_params_close(reference: ref.TorchGAN, g_params, d_params, rtol: float) -> None:
    """Every parameter within `rtol` of its magnitude (atol = rtol: the parameters are O(1) normals)."""
    theirs = ref.flax_layout(reference.g, reference.d)
    chex.assert_trees_all_close({"g": g_params, "d": d_params}, theirs, rtol=rtol, atol=rtol)


def test_one_baseline_training_step_agrees(setup):
    gan, g_params, d_params, mel, z = setup
    g_tx, d_tx = adam(G_LR, EPS), adam(D_LR, EPS)  # torch.optim.Adam and optax.adam share the eps convention
    step = baseline_step(gan, g_tx, d_tx, donate=False, compiler_options=FAST_COMPILE)
    state, metrics = step(init_state(g_params, d_params, g_tx, d_tx), mel, z)
    reference = torch_gan(g_params, d_params, eps=EPS)
    g_loss, d_loss = reference.train_step(nchw(mel), torch.from_numpy(z))
    np.testing.assert_allclose([metrics["g_loss"], metrics["d_loss"]], [g_loss, d_loss], rtol=1e-5, atol=1e-6)
    assert not np.allclose(state.g_params["initial_conv"]["kernel"], g_params["initial_conv"]["kernel"])  # it moved
    assert_params_close(reference, state.g_params, state.d_params, rtol=1e-5)
    ema = ref.flax_layout(reference.g_ema)["g"]
    chex.assert_trees_all_close(state.ema_params, ema, rtol=1e-5, atol=1e-5)


def reference_convention_adam(learning_rate: float, eps: float) -> optax.GradientTransformation:
    """optax.adam with the reference ExtraAdam's eps (added to sqrt(v) before bias correction) at every call.

    m_hat / (sqrt(v_hat) + eps / sqrt(1 - b2^t)) is the reference's update, t the count after the call.
    """
    b2 = BETAS[1]
    return optax.inject_hyperparams(optax.adam)(
        learning_rate=learning_rate, b1=BETAS[0], b2=b2, eps=lambda count: eps / jnp.sqrt(1.0 - b2 ** (count + 1.0)))


def test_one_joint_extra_adam_iteration_agrees(setup):
    """Both players extrapolate together, each phase on its own batch and latents.

    JAX: the trainer's joint gradients (`joint_gradients`, one D pass per set) in the library's extragradient
    wrapper (what `extra_adam` is) around optax.adam whose eps is the reference's convention converted exactly
    (`reference_convention_adam`); reference: eps = 1e-4.
    """
    gan, g_params, d_params, mel, z = setup
    second = inputs(DEPTH, LATENT, BATCH, seed=7)
    grads = joint_gradients(gan)

    def grads_fn(params, batch):  # each player's gradient of its own loss at the same point
        mel, z = batch
        return grads(params, (mel_pyramid(mel, DEPTH), None, z))

    state = GameState.create(Player.create(g_params, extragradient(reference_convention_adam(G_LR, EPS))),
                             Player.create(d_params, extragradient(reference_convention_adam(D_LR, EPS))))
    step = extragradient_step(grads_fn, donate=False).lower(state, (mel, z), second).compile(FAST_COMPILE)
    state, _ = step(state, (mel, z), second)
    reference = torch_gan(g_params, d_params, betas=BETAS, eps=EPS, extra=True)
    reference.extra_step((nchw(mel), torch.from_numpy(z)), (nchw(second[0]), torch.from_numpy(second[1])))
    assert all(s["step"] == 2 for s in reference.g_opt.state.values())  # both calls advanced the moments
    g_new, d_new = state.params
    assert not np.allclose(g_new["initial_conv"]["kernel"], g_params["initial_conv"]["kernel"])
    assert_params_close(reference, g_new, d_new, rtol=1e-5)
