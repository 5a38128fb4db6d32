"""Default settings of the Generate track (the ExVo MSG-GAN baseline); the files in experiments/generate override them.

Two kinds of run share every setting below. `mode="per_emotion"` trains one unconditional GAN per emotion of
`emotions` on the Train clips whose intensity for that emotion is exactly 1.0 (the reference's rule), all of
them in one compiled program; `mode="conditional"` trains one class-conditional GAN on every Train clip,
conditioned on the one-hot dominant emotion (`condition="hard"`) or on the ten intensities (`"soft"`).
"""

from __future__ import annotations

import ml_collections

from exvo_jax.data.schema import EMOTIONS
from exvo_jax.models.msg_gan import scale_shapes

MODES = ("per_emotion", "conditional")
CONDITIONS = ("hard", "soft")
OPTIMIZERS = ("adam", "extra_adam")


def default_config() -> ml_collections.ConfigDict:
    """The baseline: 128 x 512 log-mels, MSG-GAN depth 7 / latent 512, Adam (G 3e-3, D 3e-4, betas 0, 0.99)."""
    config = ml_collections.ConfigDict()
    config.data_dir = ""
    config.mode = "per_emotion"
    config.condition = "hard"  # conditional mode only
    config.emotions = EMOTIONS  # per-emotion mode: the models to train, by name
    config.country = ""  # keep only clips of this country (a name from COUNTRIES); empty: all
    # Log-mel geometry of the training images; must equal the generator's output (2x8 times 2**(depth-1)).
    config.mel = ml_collections.ConfigDict({"n_mels": 128, "hop": 128, "frames": 512})
    config.model = ml_collections.ConfigDict({"depth": 7, "latent_size": 512, "channels": ()})  # (): the schedule
    config.optimizer = "adam"  # "adam" (G step, then D step on the same latents) or "extra_adam" (joint)
    config.g_learning_rate = 3e-3
    config.d_learning_rate = 3e-4
    config.b1 = 0.0
    config.b2 = 0.99
    config.label_lr_multiplier = 1.0  # conditional mode: Adam steps of the label embeddings times this
    config.ema_decay = 0.999
    config.batch_size = 32
    config.steps = 100_000  # iterations (a G and a D update each; one extrapolation + one update for extra_adam)
    config.seed = 0
    config.log_every = 100  # iterations per compiled call: metrics and the progress bar follow it
    config.checkpoint_every = 5_000  # multiples of log_every
    config.sample_every = 5_000  # sample grid (PNG) and audio previews; multiples of log_every; 0: none
    config.keep_samples = 3  # sample grids and audio folders kept (the newest)
    config.grid_columns = 4  # real and generated mels per emotion in a grid
    config.audio_per_emotion = 2  # previews per emotion at each sample point
    config.fd_samples = 128  # EMA samples per emotion for the band-statistics Frechet distance logged at sample points
    config.collapse_threshold = 1e-3  # a mean D loss below it over a log interval is reported as a collapse
    config.strategy = "auto"  # stacked models: "auto" (vmap on accelerators, map on CPU), "vmap" or "map"
    # Devices per mesh axis: the stacked models over `seeds` (padded with inert copies of the first model to a
    # multiple of it), each mini-batch over `data` (batch_size must be divisible by it).
    config.mesh = ml_collections.ConfigDict({"seeds": -1, "data": 1})
    return config


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


def check_config(config: ml_collections.ConfigDict) -> None:
    """Raises ValueError naming the first inconsistent setting."""
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {config.mode!r}")
    if config.condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {CONDITIONS}, got {config.condition!r}")
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}")
    unknown = [e for e in config.emotions if e not in EMOTIONS]
    if unknown or not config.emotions or len(set(config.emotions)) != len(config.emotions):
        raise ValueError(f"emotions must be distinct names from {EMOTIONS}, got {tuple(config.emotions)}")
    top = scale_shapes(config.model.depth)[-1]
    if (config.mel.n_mels, config.mel.frames) != top:
        raise ValueError(f"mel geometry {config.mel.n_mels} x {config.mel.frames} differs from the output "
                         f"{top[0]} x {top[1]} of a depth-{config.model.depth} generator")
    for name in ("steps", "batch_size", "log_every", "checkpoint_every", "keep_samples"):
        if config[name] < 1:
            raise ValueError(f"{name} must be >= 1, got {config[name]}")
    if config.sample_every < 0:
        raise ValueError(f"sample_every must be >= 0 (0: no previews), got {config.sample_every}")
    for name in ("checkpoint_every", "sample_every"):
        if config[name] % config.log_every:
            raise ValueError(f"{name} ({config[name]}) must be a multiple of log_every ({config.log_every})")
    if not 0.0 <= config.ema_decay <= 1.0:
        raise ValueError(f"ema_decay must lie in [0, 1], got {config.ema_decay}")
