"""PyTorch reference of the MSG-GAN for mels, its RaHinge losses and Gidel et al.'s ExtraAdam, for parity and speed.

Written from the MSG-GAN description (NCHW, H = mel bands, W = frames): equalised learning rate (weights
N(0, 1) scaled at run time by sqrt(2) / sqrt(fan_in); the initial transposed conv with fan_in = c_in),
PixelNorm over channels, bilinear x2 upsampling (align_corners=False), a 1x1 to_rgb at every scale; a
discriminator fed every scale (from_rgb concatenated before the block output), average pooling, and a
minibatch-stddev channel over the batch of one call. Channels follow `channel_schedule` of
`exvo_jax.models.msg_gan`; `load_flax_params` copies that module's parameter trees (unconditional only).

`ExtraAdam` follows Gidel et al. (2019): its Adam adds eps to sqrt(v) before the bias correction, and
`extrapolation()` saves w_t while `step()` applies the update from w_t; both advance the moments and count.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from exvo_jax.models.msg_gan import channel_schedule

NEGATIVE_SLOPE = 0.2
EPSILON = 1e-8


def pixel_norm(x: torch.Tensor) -> torch.Tensor:  # over channels (dim 1)
    return x / torch.sqrt(torch.mean(x * x, dim=1, keepdim=True) + EPSILON)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, NEGATIVE_SLOPE)


class EqualConv2d(nn.Module):
    """Conv2d whose N(0, 1) weight is multiplied by sqrt(2) / sqrt(kh * kw * c_in) at every call.

    `transposed`: the initial transposed conv on a 1x1 input, which the reference scales by sqrt(2) / sqrt(c_in).
    """

    def __init__(self, c_in: int, c_out: int, kernel=(3, 3), padding: int = 1, transposed: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(*((c_in, c_out) if transposed else (c_out, c_in)), *kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.scale = math.sqrt(2.0) / math.sqrt(c_in if transposed else c_in * kernel[0] * kernel[1])
        self.padding, self.transposed = padding, transposed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transposed:
            return F.conv_transpose2d(x, self.weight * self.scale, self.bias)
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class TorchGenerator(nn.Module):
    """z `[B, L]` -> `depth` mels `[B, 1, H_s, W_s]`, smallest first."""

    def __init__(self, depth: int = 7, latent_size: int = 512, base_shape=(2, 8)):
        super().__init__()
        widths = channel_schedule(depth, latent_size)
        self.latent_size = latent_size
        self.initial = EqualConv2d(latent_size, widths[0], base_shape, transposed=True)
        self.initial_conv = EqualConv2d(widths[0], widths[0])
        self.blocks = nn.ModuleList(
            nn.ModuleList([EqualConv2d(widths[s - 1], widths[s]), EqualConv2d(widths[s], widths[s])])
            for s in range(1, depth))
        self.to_rgb = nn.ModuleList(EqualConv2d(w, 1, (1, 1), 0) for w in widths)

    def forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        z = z * (math.sqrt(self.latent_size) / z.norm(dim=1, keepdim=True))  # norm sqrt(L)
        x = lrelu(self.initial(z[:, :, None, None]))  # [B, C0, 2, 8]
        x = pixel_norm(lrelu(self.initial_conv(x)))
        outputs = [self.to_rgb[0](x)]
        for (conv_0, conv_1), to_rgb in zip(self.blocks, self.to_rgb[1:]):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = pixel_norm(lrelu(conv_0(x)))
            x = pixel_norm(lrelu(conv_1(x)))
            outputs.append(to_rgb(x))
        return outputs


def minibatch_stddev(x: torch.Tensor) -> torch.Tensor:
    """One extra channel: the biased std over the batch (+ 1e-8 inside the root), averaged to a scalar."""
    std = torch.sqrt(x.var(dim=0, unbiased=False) + EPSILON).mean()
    return torch.cat([x, std.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


class TorchDiscriminator(nn.Module):
    """`depth` mels `[B, 1, H_s, W_s]`, smallest first -> scores `[B]`."""

    def __init__(self, depth: int = 7, latent_size: int = 512, base_shape=(2, 8)):
        super().__init__()
        widths = channel_schedule(depth, latent_size)
        top = depth - 1
        self.depth = depth
        self.from_rgb = nn.ModuleList(
            EqualConv2d(1, widths[s] if s == top else widths[s] - widths[s] // 2, (1, 1), 0) for s in range(depth))
        self.blocks = nn.ModuleList([nn.ModuleList()] + [  # blocks[s] reduces scale s to s - 1
            nn.ModuleList([EqualConv2d(widths[s], widths[s]), EqualConv2d(widths[s], widths[s - 1] // 2)])
            for s in range(1, depth)])
        self.final_conv = EqualConv2d(widths[0] + 1, widths[0])
        self.final_valid = EqualConv2d(widths[0], widths[0], base_shape, 0)
        self.score = EqualConv2d(widths[0], 1, (1, 1), 0)

    def forward(self, scales: list[torch.Tensor]) -> torch.Tensor:
        y = None
        for s in range(self.depth - 1, -1, -1):
            x = self.from_rgb[s](scales[s])
            x = x if y is None else torch.cat([x, y], dim=1)
            if s == 0:
                break
            conv_0, conv_1 = self.blocks[s]
            y = F.avg_pool2d(lrelu(conv_1(lrelu(conv_0(x)))), 2)
        x = lrelu(self.final_conv(minibatch_stddev(x)))  # [B, C0, 2, 8]
        x = lrelu(self.final_valid(x))  # [B, C0, 1, 1]
        return self.score(x)[:, 0, 0, 0]


def mel_pyramid(mel: torch.Tensor, depth: int) -> list[torch.Tensor]:
    """`[B, 1, H, W]` average-pooled by 2**i (i = depth-1 .. 1), then the mel itself."""
    return [F.avg_pool2d(mel, 2**i) for i in range(depth - 1, 0, -1)] + [mel]


def rahinge_discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return (torch.relu(1.0 - (d_real - d_fake.mean())).mean()
            + torch.relu(1.0 + (d_fake - d_real.mean())).mean())


def rahinge_generator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return (torch.relu(1.0 + (d_real - d_fake.mean())).mean()
            + torch.relu(1.0 - (d_fake - d_real.mean())).mean())


def _layers(generator: TorchGenerator | None, discriminator: TorchDiscriminator | None):
    """(tree, flax module name, torch layer) for every layer, 'g' or 'd' tree."""
    if generator is not None:
        yield "g", "initial", generator.initial
        yield "g", "initial_conv", generator.initial_conv
        for s, (conv_0, conv_1) in enumerate(generator.blocks, start=1):
            yield "g", f"block_{s}_conv_0", conv_0
            yield "g", f"block_{s}_conv_1", conv_1
        yield from (("g", f"to_rgb_{s}", m) for s, m in enumerate(generator.to_rgb))
    if discriminator is not None:
        for s in range(discriminator.depth):
            yield "d", f"from_rgb_{s}", discriminator.from_rgb[s]
            yield from (("d", f"block_{s}_conv_{i}", m) for i, m in enumerate(discriminator.blocks[s]))
        yield from (("d", name, getattr(discriminator, name)) for name in ("final_conv", "final_valid", "score"))


def _to_torch(layer: EqualConv2d) -> tuple[int, ...]:
    """Axis order taking a flax kernel to the torch weight: HWIO -> OIHW; the projection [L,h,w,C] -> [L,C,h,w]."""
    return (0, 3, 1, 2) if layer.transposed else (3, 2, 0, 1)


def load_flax_params(generator: TorchGenerator | None, discriminator: TorchDiscriminator | None,
                     g_params=None, d_params=None) -> None:
    """Copies `params` trees of `exvo_jax.models.msg_gan.Generator` / `Discriminator` into the torch modules."""
    trees = {"g": g_params, "d": d_params}
    with torch.no_grad():
        for tree, name, layer in _layers(generator, discriminator):
            p = trees[tree][name]
            layer.weight.copy_(torch.from_numpy(np.asarray(p["kernel"], np.float32)).permute(*_to_torch(layer)))
            layer.bias.copy_(torch.from_numpy(np.asarray(p["bias"], np.float32)))


def flax_layout(generator: TorchGenerator | None = None, discriminator: TorchDiscriminator | None = None) -> dict:
    """The inverse of `load_flax_params`: `{'g': params, 'd': params}` (those given) as numpy trees."""
    out: dict = {}
    for tree, name, layer in _layers(generator, discriminator):
        inverse = np.argsort(_to_torch(layer))
        out.setdefault(tree, {})[name] = {"kernel": layer.weight.detach().permute(*map(int, inverse)).numpy(),
                                          "bias": layer.bias.detach().numpy()}
    return out


class ExtraAdam(torch.optim.Optimizer):
    """Gidel et al.'s ExtraAdam: call `extrapolation()` after the first backward pass and `step()` after the second."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.anchor: dict[torch.Tensor, torch.Tensor] | None = None  # w_t per parameter, saved by extrapolation()

    def _params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    @torch.no_grad()
    def _apply_adam(self, base: list[torch.Tensor]) -> None:
        """p = base + Adam step of p.grad; the moments and the count advance."""
        for group in self.param_groups:
            (b1, b2), lr, eps = group["betas"], group["lr"], group["eps"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                state["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                step_size = lr * math.sqrt(1 - b2 ** state["step"]) / (1 - b1 ** state["step"])
                p.copy_(base[p] - step_size * state["m"] / (state["v"].sqrt() + eps))  # eps before bias correction

    def extrapolation(self) -> None:
        """w_{t+1/2} = w_t + Adam(g(w_t)); saves w_t."""
        self.anchor = {p: p.detach().clone() for p in self._params()}
        self._apply_adam(self.anchor)

    def step(self, closure=None) -> None:
        """w_{t+1} = w_t + Adam(g(w_{t+1/2})), from the w_t saved by the last extrapolation."""
        if self.anchor is None:
            raise RuntimeError("ExtraAdam.step() needs a preceding extrapolation()")
        self._apply_adam(self.anchor)
        self.anchor = None


class TorchGAN:
    """G, D, an EMA copy of G and their optimisers, as the baseline trains them."""

    def __init__(self, depth: int, latent_size: int, g_lr: float = 0.003, d_lr: float = 0.0003,
                 betas=(0.0, 0.99), eps: float = 1e-8, ema_decay: float = 0.999, extra: bool = False):
        self.depth, self.latent_size, self.ema_decay = depth, latent_size, ema_decay
        self.g = TorchGenerator(depth, latent_size)
        self.d = TorchDiscriminator(depth, latent_size)
        self.g_ema = TorchGenerator(depth, latent_size)
        optimizer = ExtraAdam if extra else torch.optim.Adam
        self.g_opt = optimizer(self.g.parameters(), lr=g_lr, betas=betas, eps=eps)
        self.d_opt = optimizer(self.d.parameters(), lr=d_lr, betas=betas, eps=eps)
        self.sync_ema()

    @torch.no_grad()
    def sync_ema(self) -> None:
        for e, p in zip(self.g_ema.parameters(), self.g.parameters()):
            e.copy_(p)

    def g_loss(self, real_scales, z):
        fakes = self.g(z)
        return rahinge_generator_loss(self.d(real_scales), self.d(fakes))

    def d_loss(self, real_scales, z):
        with torch.no_grad():
            fakes = self.g(z)
        return rahinge_discriminator_loss(self.d(real_scales), self.d(fakes))

    def train_step(self, mel: torch.Tensor, z: torch.Tensor) -> tuple[float, float]:
        """Baseline step: Adam on G, EMA of G, then Adam on D with fakes of the updated G from the same z.

        D's weights are frozen during the G step (no weight gradients computed for them).
        """
        real_scales = mel_pyramid(mel, self.depth)
        self.g_opt.zero_grad(set_to_none=True)
        self.d.requires_grad_(False)
        g_loss = self.g_loss(real_scales, z)
        g_loss.backward()
        self.d.requires_grad_(True)
        self.g_opt.step()
        with torch.no_grad():
            for e, p in zip(self.g_ema.parameters(), self.g.parameters()):
                e.mul_(self.ema_decay).add_(p, alpha=1 - self.ema_decay)
        self.d_opt.zero_grad(set_to_none=True)
        d_loss = self.d_loss(real_scales, z)
        d_loss.backward()
        self.d_opt.step()
        return g_loss.item(), d_loss.item()

    def _grads(self, mel, z):
        """Each player's gradient of its own loss at the current point (G's loss does not train D, and back)."""
        real_scales = mel_pyramid(mel, self.depth)
        self.g_opt.zero_grad(set_to_none=True)
        self.d_opt.zero_grad(set_to_none=True)
        g_grads = torch.autograd.grad(self.g_loss(real_scales, z), list(self.g.parameters()))
        d_grads = torch.autograd.grad(self.d_loss(real_scales, z), list(self.d.parameters()))
        for params, grads in ((self.g.parameters(), g_grads), (self.d.parameters(), d_grads)):
            for p, grad in zip(params, grads):
                p.grad = grad

    def extra_step(self, extrapolation_inputs, update_inputs) -> None:
        """One joint ExtraAdam iteration: both players extrapolate, then both update from w_t."""
        self._grads(*extrapolation_inputs)
        self.g_opt.extrapolation()
        self.d_opt.extrapolation()
        self._grads(*update_inputs)
        self.g_opt.step()
        self.d_opt.step()
