"""Settings of the supervised CNN-LSTM training that the few-shot track and the FID classifier share.

`RecognitionSettings` is what `exvo_jax.recognition.training.fit` reads: the clips' framing, the network,
AdamW and the data-parallel mesh. The FID classifier's settings are exactly these; the few-shot track's
settings extend them (`exvo_jax.tracks.fewshot.config`). `WATCH` names the fields a resumed run may
change: the epoch budget and patience extend it, the evaluation batch and the mesh change speed or
float rounding.
"""

from __future__ import annotations

import dataclasses

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.settings import check, finite, positive_int

WATCH = frozenset({"train.epochs", "train.patience", "eval_batch_size", "mesh.data"})


@dataclasses.dataclass(frozen=True)
class NetworkSettings:
    """The CNN-LSTM's widths: LSTM hidden size, outputs (emotions) and the three convolutions' channels."""

    hidden: int = 256
    outputs: int = len(EMOTIONS)
    channels: tuple[int, int, int] = (64, 128, 256)

    def __post_init__(self):
        check(positive_int(self.hidden), f"model.hidden must be an integer >= 1, got {self.hidden!r}")
        check(positive_int(self.outputs), f"model.outputs must be an integer >= 1, got {self.outputs!r}")
        check(len(self.channels) == 3 and all(positive_int(c) for c in self.channels),
              f"model.channels must be three integers >= 1, got {self.channels!r}")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """AdamW on mini-batches, the best epoch by validation mean CCC, early stopping after `patience`."""

    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    epochs: int = 60
    patience: int = 30

    def __post_init__(self):
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            check(positive_int(value), f"train.{name} must be an integer >= 1, got {value!r}")
        check(finite(self.learning_rate) and self.learning_rate > 0,
              f"train.learning_rate must be finite and > 0, got {self.learning_rate!r}")
        check(finite(self.weight_decay) and self.weight_decay >= 0,
              f"train.weight_decay must be finite and >= 0, got {self.weight_decay!r}")
        check(isinstance(self.patience, int) and self.patience >= 0,
              f"train.patience must be an integer >= 0, got {self.patience!r}")


@dataclasses.dataclass(frozen=True)
class RecognitionSettings:
    """Supervised training of the CNN-LSTM on framed clips (0.1 s frames, at most `max_frames` of them)."""

    data_dir: str = ""
    seed: int = 0
    max_frames: int = 200
    buckets: tuple[int, ...] = (10, 25, 50, 100, 200)  # padded lengths in frames, so jit compiles a few shapes
    eval_batch_size: int = 32
    # Training is data-parallel: train.batch_size rows split over `data` (-1: every device)
    mesh: dict = dataclasses.field(default_factory=lambda: {"data": -1})
    model: NetworkSettings = dataclasses.field(default_factory=NetworkSettings)
    train: TrainingSettings = dataclasses.field(default_factory=TrainingSettings)

    def __post_init__(self):
        for name in ("max_frames", "eval_batch_size"):
            value = getattr(self, name)
            check(positive_int(value), f"{name} must be an integer >= 1, got {value!r}")
        check(len(self.buckets) > 0 and all(positive_int(b) for b in self.buckets),
              f"buckets must be frame counts >= 1, got {self.buckets!r}")
        check("data" in self.mesh, f"mesh needs a 'data' axis (training is data-parallel), got {self.mesh}")
