"""PyTorch reference of the multitask baseline (network, uncertainty-weighted loss, Adam with coupled L2).

Written from the behavioural description, for parity tests and speed comparison with `exvo_jax.models.multitask`.
`load_flax_params` copies a Flax parameter tree into the module so both compute the same function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn


class TorchMultitaskNet(nn.Module):
    """Dense-LayerNorm-LeakyReLU trunk (128, 64) and per-task heads Dense(32)-LeakyReLU-Dense(k)."""

    def __init__(self, dim: int, tasks: Sequence[tuple[str, str, int]], log_var_init: float = -0.33):
        super().__init__()
        self.tasks = tuple(tasks)  # (name, kind, size)
        self.trunk = nn.Sequential(
            nn.Linear(dim, 128), nn.LayerNorm(128, eps=1e-5), nn.LeakyReLU(0.01),
            nn.Linear(128, 64), nn.LayerNorm(64, eps=1e-5), nn.LeakyReLU(0.01),
        )
        self.heads = nn.ModuleDict({
            name: nn.Sequential(nn.Linear(64, 32), nn.LeakyReLU(0.01), nn.Linear(32, size))
            for name, _, size in self.tasks
        })
        self.log_var = nn.Parameter(torch.full((len(self.tasks),), log_var_init))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.trunk(x)
        out = {}
        for name, kind, _ in self.tasks:
            z = self.heads[name](h)
            out[name] = torch.sigmoid(z) if kind == "intensity" else z
        return out


def loss(model: TorchMultitaskNet, outputs: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """sum_i exp(-s_i)/2 * L_i + s_i/2: intensity = sum of per-column MSE, regression MSE, classification CE."""
    total = torch.zeros(())
    for i, (name, kind, _) in enumerate(model.tasks):
        out, target = outputs[name], targets[name]
        if kind == "intensity":
            task_loss = ((out - target) ** 2).mean(dim=0).sum()
        elif kind == "regression":
            task_loss = ((out - target.reshape(out.shape)) ** 2).mean()
        else:
            task_loss = nn.functional.cross_entropy(out, target.long())
        total = total + 0.5 * torch.exp(-model.log_var[i]) * task_loss + 0.5 * model.log_var[i]
    return total


def optimizer(model: nn.Module, lr: float = 1e-3, weight_decay: float = 1e-4) -> torch.optim.Optimizer:
    """Adam whose `weight_decay` adds wd * w to the gradient (coupled L2), as in the baseline."""
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def train_step(model: TorchMultitaskNet, opt: torch.optim.Optimizer, x: torch.Tensor,
               targets: Mapping[str, torch.Tensor]) -> float:
    opt.zero_grad(set_to_none=True)
    value = loss(model, model(x), targets)
    value.backward()
    opt.step()
    return float(value.detach())


def train_epoch(model: TorchMultitaskNet, opt: torch.optim.Optimizer, x: torch.Tensor,
                targets: Mapping[str, torch.Tensor], batch_size: int = 8, seed: int = 0) -> float:
    """One reshuffled epoch over preloaded tensors, last partial batch kept; mean batch loss."""
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    total, batches = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        idx = order[start:start + batch_size]
        total += train_step(model, opt, x[idx], {k: v[idx] for k, v in targets.items()})
        batches += 1
    return total / batches


def load_flax_params(model: TorchMultitaskNet, params: Mapping) -> None:
    """Copies a `MultitaskNet` parameter tree (Dense kernels [in, out]) into the module (weights [out, in])."""

    def dense(layer: nn.Linear, p: Mapping) -> None:
        layer.weight.copy_(torch.from_numpy(np.asarray(p["kernel"]).T.copy()))
        layer.bias.copy_(torch.from_numpy(np.asarray(p["bias"]).copy()))

    with torch.no_grad():
        for i, (linear, norm) in enumerate(((0, 1), (3, 4))):
            dense(model.trunk[linear], params[f"dense_{i}"])
            model.trunk[norm].weight.copy_(torch.from_numpy(np.asarray(params[f"norm_{i}"]["scale"]).copy()))
            model.trunk[norm].bias.copy_(torch.from_numpy(np.asarray(params[f"norm_{i}"]["bias"]).copy()))
        for name, _, _ in model.tasks:
            dense(model.heads[name][0], params[f"{name}_hidden"])
            dense(model.heads[name][2], params[f"{name}_out"])
        model.log_var.copy_(torch.from_numpy(np.asarray(params["loss_log_var"]).copy()))
