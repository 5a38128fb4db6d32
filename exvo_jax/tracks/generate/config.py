"""The Generate track's config (the ExVo MSG-GAN baseline): its settings as a frozen dataclass, range-checked, and
their defaults as a config.

`settings(config)` is the one conversion from a config file's ConfigDict (`experiments/generate/...`);
everything below it reads `GenerateSettings`. Two kinds of run share every setting: `mode="per_emotion"`
trains one unconditional GAN per emotion of `emotions` on the Train clips whose intensity for that
emotion is exactly 1.0 (the reference's rule), all of them in one compiled program;
`mode="conditional"` trains one class-conditional GAN on every Train clip, conditioned on the one-hot
dominant emotion (`condition="hard"`) or on the ten intensities (`"soft"`). `WATCH` names the fields a
resumed run may change: the iteration budget, what it writes and when, and how it is spread on devices.

`default_config()` gives the defaults as a ConfigDict (the form config files start from, and `--set` changes);
`make_tiny(config)` is the test-sized variant.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from exvo_jax.data.schema import COUNTRIES, EMOTIONS
from exvo_jax.models.msg_gan import scale_shapes
from exvo_jax.settings import as_config, check, finite, from_config, positive_int

MODES = ("per_emotion", "conditional")
CONDITIONS = ("hard", "soft")
OPTIMIZERS = ("adam", "extra_adam")
STRATEGIES = ("auto", "map", "vmap")
WATCH = frozenset({"steps", "log_every", "checkpoint_every", "sample_every", "keep_samples", "grid_columns",
                   "audio_per_emotion", "collapse_threshold", "fd_samples", "strategy", "mesh.seeds", "mesh.data"})


@dataclasses.dataclass(frozen=True)
class MelSettings:
    """Log-mel geometry of the training images; must equal the generator's output (2x8 times 2**(depth-1))."""

    n_mels: int = 128
    hop: int = 128
    frames: int = 512


@dataclasses.dataclass(frozen=True)
class GanNetwork:
    """MSG-GAN depth, latent size and channels per scale (empty: the reference's schedule)."""

    depth: int = 7
    latent_size: int = 512
    channels: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class GenerateSettings:
    """The baseline: 128 x 512 log-mels, MSG-GAN depth 7 / latent 512, Adam (G 3e-3, D 3e-4, betas 0, 0.99)."""

    data_dir: str = ""
    mode: str = "per_emotion"
    condition: str = "hard"  # conditional mode only
    emotions: tuple[str, ...] = EMOTIONS  # per-emotion mode: the models to train, by name
    country: str = ""  # keep only clips of this country (a name from COUNTRIES); empty: all
    mel: MelSettings = dataclasses.field(default_factory=MelSettings)
    model: GanNetwork = dataclasses.field(default_factory=GanNetwork)
    optimizer: str = "adam"  # "adam" (G step, then D step on the same latents) or "extra_adam" (joint)
    g_learning_rate: float = 3e-3
    d_learning_rate: float = 3e-4
    b1: float = 0.0
    b2: float = 0.99
    label_lr_multiplier: float = 1.0  # conditional mode: Adam steps of the label embeddings times this
    ema_decay: float = 0.999
    batch_size: int = 32
    steps: int = 100_000  # iterations (a G and a D update each; one extrapolation + one update for extra_adam)
    seed: int = 0
    log_every: int = 100  # iterations per compiled call: metrics and the progress bar follow it
    checkpoint_every: int = 5_000  # multiples of log_every
    sample_every: int = 5_000  # sample grid (PNG) and audio previews; multiples of log_every; 0: none
    keep_samples: int = 3  # sample grids and audio folders kept (the newest)
    grid_columns: int = 4  # real and generated mels per emotion in a grid
    audio_per_emotion: int = 2  # previews per emotion at each sample point
    fd_samples: int = 128  # EMA samples per emotion for the band-statistics Frechet distance logged at sample points
    collapse_threshold: float = 1e-3  # a mean D loss below it over a log interval is reported as a collapse
    strategy: str = "auto"  # stacked models: "auto" (vmap on accelerators, map on CPU), "vmap" or "map"
    # Devices per mesh axis: the stacked models over `seeds` (padded with inert copies of the first model to a
    # multiple of it), each mini-batch over `data` (batch_size must be divisible by it).
    mesh: dict = dataclasses.field(default_factory=lambda: {"seeds": -1, "data": 1})

    def __post_init__(self):
        for name, allowed in (("mode", MODES), ("condition", CONDITIONS), ("optimizer", OPTIMIZERS),
                              ("strategy", STRATEGIES)):
            value = getattr(self, name)
            check(value in allowed, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        check(self.country in ("", *COUNTRIES), f"country must be empty (all) or one of {', '.join(COUNTRIES)}, "
                                               f"got {self.country!r}")
        unknown = [e for e in self.emotions if e not in EMOTIONS]
        check(not unknown and self.emotions and len(set(self.emotions)) == len(self.emotions),
              f"emotions must be distinct names from {EMOTIONS}, got {tuple(self.emotions)}")
        check(positive_int(self.model.depth), f"model.depth must be an integer >= 1, got {self.model.depth!r}")
        top = scale_shapes(self.model.depth)[-1]
        check((self.mel.n_mels, self.mel.frames) == top,
              f"mel geometry {self.mel.n_mels} x {self.mel.frames} differs from the output {top[0]} x {top[1]} "
              f"of a depth-{self.model.depth} generator")
        for name in ("steps", "log_every", "checkpoint_every", "keep_samples"):
            value = getattr(self, name)
            check(positive_int(value), f"{name} must be an integer >= 1, got {value!r}")
        check(positive_int(self.batch_size) and self.batch_size >= 2,
              f"batch_size must be an integer >= 2 (the minibatch standard deviation needs two rows), "
              f"got {self.batch_size!r}")
        check(isinstance(self.sample_every, int) and self.sample_every >= 0,
              f"sample_every must be >= 0 (0: no previews), got {self.sample_every!r}")
        for name in ("checkpoint_every", "sample_every"):
            check(getattr(self, name) % self.log_every == 0,
                  f"{name} ({getattr(self, name)}) must be a multiple of log_every ({self.log_every})")
        check(finite(self.ema_decay) and 0.0 <= self.ema_decay <= 1.0,
              f"ema_decay must lie in [0, 1], got {self.ema_decay!r}")
        for name in ("g_learning_rate", "d_learning_rate", "label_lr_multiplier"):
            value = getattr(self, name)
            check(finite(value) and value > 0, f"{name} must be finite and > 0, got {value!r}")


def settings(config) -> GenerateSettings:
    """The track's settings from a config (a ConfigDict or a mapping); a bad field is a one-line `DataError`."""
    return from_config(GenerateSettings, config)


def default_config() -> ml_collections.ConfigDict:
    """The baseline: 128 x 512 log-mels, MSG-GAN depth 7 / latent 512, Adam (G 3e-3, D 3e-4, betas 0, 0.99)."""
    return as_config(GenerateSettings())


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """CPU-sized variant: 16 x 64 log-mels (0.5 s, the `nano` geometry), depth 4, latent 16, batch 16."""
    config.mel = ml_collections.ConfigDict({"n_mels": 16, "hop": 128, "frames": 64})
    config.model = ml_collections.ConfigDict({"depth": 4, "latent_size": 16, "channels": ()})
    config.country = ""
    config.batch_size = 16
    config.ema_decay = 0.95  # a few hundred iterations: at 0.999 the EMA would still be mostly the initial weights
    config.steps = 300
    config.log_every = 25
    config.checkpoint_every = 100
    config.sample_every = 150
    config.keep_samples = 2
    config.audio_per_emotion = 1
    return config
