"""Standard scaling fit on the training split only; stored beside the model as plain arrays."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class StandardScaler:
    """`(x - mean) / scale` per feature; constant features get scale 1 (as scikit-learn does)."""

    mean: np.ndarray  # [D]
    scale: np.ndarray  # [D]

    @classmethod
    def fit(cls, features: np.ndarray) -> StandardScaler:
        """Population mean and standard deviation of `features` [N, D] (float64 accumulation)."""
        if features.ndim != 2 or features.shape[0] == 0:
            raise ValueError(f"scaler needs a non-empty [N, D] array, got shape {features.shape}")
        data = features.astype(np.float64)
        mean = data.mean(axis=0)
        std = data.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        return cls(mean.astype(np.float32), scale.astype(np.float32))

    def transform(self, features: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of `features` [N, D]."""
        if features.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"scaler fit on {self.mean.shape[0]} features, got {features.shape[-1]}")
        return ((features - self.mean) / self.scale).astype(np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "scale": self.scale}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StandardScaler:
        return cls(np.asarray(arrays["mean"], np.float32), np.asarray(arrays["scale"], np.float32))
