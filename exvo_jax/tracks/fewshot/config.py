"""The few-shot track's config (the paper's protocol): its settings as a frozen dataclass, range-checked, and
their defaults as a config.

`settings(config)` is the one conversion from a config file's ConfigDict (`experiments/fewshot/...`);
everything below it reads `FewshotSettings`: the shared CNN-LSTM training
(`exvo_jax.recognition.settings.RecognitionSettings`) plus the adaptation grid chosen on Val speakers,
episodic training and Table 4's linear yardstick. `WATCH` adds to the training's watch fields how
adaptation is spread over devices and chunked, and the functionals' workers and cache.

`default_config()` gives the defaults as a ConfigDict (the form config files start from, and `--set` changes);
`make_tiny(config)` is the test-sized variant.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from exvo_jax.data.nonverbal import NUM_VOCAL_TYPES
from exvo_jax.data.schema import EMOTIONS
from exvo_jax.recognition.settings import WATCH as TRAINING_WATCH
from exvo_jax.recognition.settings import NetworkSettings, RecognitionSettings
from exvo_jax.settings import as_config, check, finite, from_config, positive_int
from exvo_jax.tracks.fewshot.adapt import MODES

STRATEGIES = ("auto", "map", "vmap")
DATASETS = ("exvo", "nonverbal")
WATCH = TRAINING_WATCH | {"adapt.strategy", "adapt.chunk_size", "adapt.mesh.speakers", "workers", "cache_dir"}


@dataclasses.dataclass(frozen=True)
class AdaptationGrid:
    """The per-speaker adaptations tried on the selection speakers; the best is kept."""

    modes: tuple[str, ...] = MODES
    steps: tuple[int, ...] = (1, 5, 10, 20)
    learning_rates: tuple[float, ...] = (1e-4, 1e-3, 1e-2)
    weight_decay: float = 0.01
    lora_rank: int = 4
    strategy: str = "auto"  # "vmap" | "map" | "auto" (by backend and mode)
    chunk_size: int = 64
    # `ridge`: the output layer solved per speaker, pulled toward the trained one with these strengths
    ridge_strengths: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
    mesh: dict = dataclasses.field(default_factory=lambda: {"speakers": -1})  # speakers split over devices

    def __post_init__(self):
        unknown = [m for m in self.modes if m not in MODES]
        check(len(self.modes) > 0 and not unknown, f"adapt.modes must be some of {', '.join(MODES)}, got {self.modes}")
        check(self.strategy in STRATEGIES, f"adapt.strategy must be one of {', '.join(STRATEGIES)}, "
                                           f"got {self.strategy!r}")
        check(len(self.steps) > 0 and all(positive_int(s) for s in self.steps),
              f"adapt.steps must be integers >= 1, got {self.steps!r}")
        check(len(self.learning_rates) > 0 and all(finite(r) and r > 0 for r in self.learning_rates),
              f"adapt.learning_rates must be finite and > 0, got {self.learning_rates!r}")
        check(positive_int(self.chunk_size), f"adapt.chunk_size must be an integer >= 1, got {self.chunk_size!r}")
        check("lora" not in self.modes or positive_int(self.lora_rank),
              f"adapt.lora_rank must be an integer >= 1 for the lora mode, got {self.lora_rank!r}")
        check("ridge" not in self.modes or all(finite(r) and r > 0 for r in self.ridge_strengths),
              f"adapt.ridge_strengths must be finite and > 0, got {self.ridge_strengths!r}")
        check(finite(self.weight_decay) and self.weight_decay >= 0,
              f"adapt.weight_decay must be finite and >= 0, got {self.weight_decay!r}")
        check(set(self.mesh) == {"speakers"}, f"adapt.mesh has the one axis 'speakers', got {self.mesh}")


@dataclasses.dataclass(frozen=True)
class YardstickSettings:
    """Table 4's linear yardstick: ridge regression from the clips' functionals to the intensities."""

    enabled: bool = True
    feature_set: str = "eGeMAPS"
    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


@dataclasses.dataclass(frozen=True)
class EpisodicTraining:
    """Meta-training of the head on Train speakers' few-shot episodes."""

    enabled: bool = True
    steps: int = 2000
    meta_batch: int = 16
    query_clips: int = 8
    learning_rate: float = 1e-4
    first_order: bool = True

    def __post_init__(self):
        for name in ("steps", "meta_batch", "query_clips"):
            value = getattr(self, name)
            check(positive_int(value), f"episodic.{name} must be an integer >= 1, got {value!r}")
        check(finite(self.learning_rate) and self.learning_rate > 0,
              f"episodic.learning_rate must be finite and > 0, got {self.learning_rate!r}")


@dataclasses.dataclass(frozen=True)
class FewshotSettings(RecognitionSettings):
    """Speaker-independent training, then adaptation to each speaker from `shots` labelled clips."""

    dataset: str = "exvo"  # "exvo" (release layout, emotion intensities) or "nonverbal" (type scores and age)
    shots: int = 2
    adapt: AdaptationGrid = dataclasses.field(default_factory=AdaptationGrid)
    yardstick: YardstickSettings = dataclasses.field(default_factory=YardstickSettings)
    cache_dir: str = ""  # functionals cache; empty: <workdir>/feature_cache
    workers: int = 0  # feature-extraction processes; 0: one per CPU core
    episodic: EpisodicTraining = dataclasses.field(default_factory=EpisodicTraining)
    speaker_norm: bool = True

    def __post_init__(self):
        super().__post_init__()
        check(positive_int(self.shots), f"shots must be an integer >= 1, got {self.shots!r}")
        check(self.dataset in DATASETS, f"dataset must be one of {', '.join(DATASETS)}, got {self.dataset!r}")
        if self.dataset == "exvo":
            check(self.model.outputs <= len(EMOTIONS), f"model.outputs must be at most {len(EMOTIONS)} for dataset "
                                                       f"'exvo' (the emotions), got {self.model.outputs}")
        else:
            check(self.model.outputs == NUM_VOCAL_TYPES + 1, f"model.outputs must be {NUM_VOCAL_TYPES + 1} for dataset "
                                                            f"'nonverbal' (16 type scores and age), "
                                                            f"got {self.model.outputs}")


def settings(config) -> FewshotSettings:
    """The track's settings from a config (a ConfigDict or a mapping); a bad field is a one-line `DataError`."""
    return from_config(FewshotSettings, config)


def default_config(hidden: int = 256) -> ml_collections.ConfigDict:
    return as_config(FewshotSettings(model=NetworkSettings(hidden=hidden)))


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Seconds-scale variant: short clips, a few epochs, a small adaptation grid, few meta-steps."""
    config.max_frames = 20
    config.buckets = (10, 20)
    config.train.epochs = 15
    config.train.patience = 5
    config.train.learning_rate = 3e-3
    config.adapt.steps = (20,)
    config.adapt.learning_rates = (1e-2,)
    config.adapt.chunk_size = 16
    config.episodic.steps = 30
    config.episodic.meta_batch = 4
    config.episodic.query_clips = 3
    config.episodic.learning_rate = 1e-3
    return config
