"""PyTorch reference of the few-shot network and of per-speaker adaptation as the baseline runs it.

The network follows the baseline description: per frame three Conv1d/BatchNorm/LeakyReLU/MaxPool
blocks (1600 -> 512 features), a 2-layer `nn.LSTM` over frames and a per-frame Linear head.
`load_flax_params` copies weights of `exvo_jax.models.cnn_lstm.CnnLstm` so outputs can be compared.

Two adaptation loops, both over speakers one after another with AdamW on LSTM + head:
- `adapt_baseline_style`: the whole network runs at every step (the CNN is recomputed each time, in
  eval mode, with gradients only for the sequence part), as the reference loop does;
- `adapt_cached`: the CNN features are computed once and only the sequence part runs per step.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn


class TorchCnnLstm(nn.Module):
    def __init__(self, hidden: int = 256, outputs: int = 10, channels=(64, 128, 256)):
        super().__init__()
        c1, c2, c3 = channels
        self.encoder = nn.Sequential(
            nn.Conv1d(1, c1, 8, padding=3), nn.BatchNorm1d(c1), nn.LeakyReLU(0.01), nn.MaxPool1d(10),
            nn.Conv1d(c1, c2, 6, padding=2), nn.BatchNorm1d(c2), nn.LeakyReLU(0.01), nn.MaxPool1d(8),
            nn.Conv1d(c2, c3, 6, padding=2), nn.BatchNorm1d(c3), nn.LeakyReLU(0.01), nn.MaxPool1d(8),
        )
        self.lstm = nn.LSTM(2 * c3, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:  # [B, T, 1600] -> [B, T, 512]
        batch, steps, samples = frames.shape
        x = self.encoder(frames.reshape(batch * steps, 1, samples))  # [N, C, 2]
        return x.reshape(batch, steps, -1)  # channel-major flattening

    def sequence(self, features: torch.Tensor) -> torch.Tensor:  # [B, T, F] -> [B, T, K]
        return self.head(self.lstm(features)[0])

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.sequence(self.encode(frames))


def _t(x) -> torch.Tensor:
    return torch.from_numpy(np.array(x, dtype=np.float32))


def load_flax_params(model: TorchCnnLstm, variables) -> TorchCnnLstm:
    """Copies `{"params", "batch_stats"}` of a `CnnLstm` (lora_rank 0) into `model`."""
    params, stats = variables["params"], variables["batch_stats"]
    enc = params["encoder"]
    with torch.no_grad():
        for i in range(3):
            conv, bn = model.encoder[4 * i], model.encoder[4 * i + 1]
            conv.weight.copy_(_t(enc[f"Conv_{i}"]["kernel"]).permute(2, 1, 0))  # [k, in, out] -> [out, in, k]
            conv.bias.copy_(_t(enc[f"Conv_{i}"]["bias"]))
            bn.weight.copy_(_t(enc[f"MaskedBatchNorm_{i}"]["scale"]))
            bn.bias.copy_(_t(enc[f"MaskedBatchNorm_{i}"]["bias"]))
            bn.running_mean.copy_(_t(stats["encoder"][f"MaskedBatchNorm_{i}"]["mean"]))
            bn.running_var.copy_(_t(stats["encoder"][f"MaskedBatchNorm_{i}"]["var"]))
        head = params["head"]
        for layer in range(2):
            p = head[f"lstm_{layer}"]
            getattr(model.lstm, f"weight_ih_l{layer}").copy_(_t(p["w_ih"]).T)
            getattr(model.lstm, f"weight_hh_l{layer}").copy_(_t(p["w_hh"]).T)
            getattr(model.lstm, f"bias_ih_l{layer}").copy_(_t(p["b_ih"]))
            getattr(model.lstm, f"bias_hh_l{layer}").copy_(_t(p["b_hh"]))
        model.head.weight.copy_(_t(head["dense"]["kernel"]).T)
        model.head.bias.copy_(_t(head["dense"]["bias"]))
    return model


def last_valid(outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    index = (lengths - 1).clamp(min=0).long()
    return outputs[torch.arange(outputs.shape[0]), index]


def _adapt_one(model: TorchCnnLstm, inputs, lengths, targets, steps: int, lr: float, weight_decay: float,
               run) -> TorchCnnLstm:
    speaker = copy.deepcopy(model)  # every speaker starts from the trained weights
    speaker.eval()  # running BN statistics
    params = list(speaker.lstm.parameters()) + list(speaker.head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.mean((last_valid(run(speaker, inputs), lengths) - targets) ** 2)
        loss.backward()
        optimizer.step()
    return speaker


def _predict(speaker: TorchCnnLstm, run, query: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
    """Last-valid-frame predictions for a speaker's query clips (none where the query set is empty)."""
    if len(query) == 0:
        return np.zeros((0, speaker.head.out_features), np.float32)
    with torch.no_grad():
        return last_valid(run(query), lengths).numpy()


def adapt_baseline_style(model: TorchCnnLstm, speakers, steps: int, lr: float, weight_decay: float = 0.01):
    """`speakers`: [(support frames [S, T, 1600], lengths [S], targets [S, K], query frames, query lengths)].

    The CNN runs inside every step (frozen, no gradient), as in the reference loop. Returns query predictions.
    """

    def run(speaker, frames):
        with torch.no_grad():
            features = speaker.encode(frames)
        return speaker.sequence(features)

    predictions = []
    for frames, lengths, targets, query, query_lengths in speakers:
        speaker = _adapt_one(model, frames, lengths, targets, steps, lr, weight_decay, run)
        predictions.append(_predict(speaker, speaker.forward, query, query_lengths))
    return predictions


def adapt_cached(model: TorchCnnLstm, speakers, steps: int, lr: float, weight_decay: float = 0.01):
    """Same protocol on cached CNN features: `speakers` hold features [S, T, F] instead of frames."""
    predictions = []
    for features, lengths, targets, query, query_lengths in speakers:
        speaker = _adapt_one(model, features, lengths, targets, steps, lr, weight_decay,
                             lambda s, x: s.sequence(x))
        predictions.append(_predict(speaker, speaker.sequence, query, query_lengths))
    return predictions


def train_step(model: TorchCnnLstm, optimizer: torch.optim.Optimizer, frames, lengths, targets) -> float:
    """One training step (train-mode BN), MSE of the last valid frame."""
    model.train()
    optimizer.zero_grad()
    loss = torch.mean((last_valid(model(frames), lengths) - targets) ** 2)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
