"""The multitask track's config: the ExVo baseline's hyperparameters as a frozen dataclass, range-checked, and their
defaults as a config.

`settings(config)` is the one conversion from a config file's ConfigDict (`experiments/multitask/...`);
everything below it reads `MultitaskSettings`. `WATCH` names the fields a run may change when it
resumes (the run layer's resume rule): the epoch budget, patience and checkpoint cadence extend or
watch the run, the feature workers and cache and the mesh and strategy change speed or float rounding,
not what is computed.

`default_config()` gives the defaults as a ConfigDict (the form config files start from, and `--set` changes);
`make_tiny(config)` is the test-sized variant.
"""

from __future__ import annotations

import dataclasses

import ml_collections

from exvo_jax.settings import as_config, check, finite, from_config, positive_int

DATASETS = ("exvo", "nonverbal")
TASKS = {"exvo": ("emotion", "age", "country"), "nonverbal": ("type", "age", "sex")}  # each dataset's heads
LR_SCHEDULES = ("constant", "cosine")
INTENSITY_LOSSES = ("mse", "ccc")
RESTORES = ("best", "last")
INIT_SCHEMES = ("flax", "torch")
CCC_VARIANTS = ("population", "reference")
STRATEGIES = ("auto", "map", "vmap")

WATCH = frozenset({"max_epochs", "patience", "checkpoint_every", "workers", "cache_dir", "mesh.seeds", "mesh.data",
                   "strategy"})


@dataclasses.dataclass(frozen=True)
class MultitaskSettings:
    """The baseline of the ExVo white paper: Adam 1e-3 with coupled L2 1e-4, batch 8, <= 20 epochs."""

    dataset: str = "exvo"  # "exvo" (release layout) or "nonverbal" (Deeply corpus, speaker-disjoint split)
    data_dir: str = ""
    test_labels: bool = False  # read Test labels from test_labels.csv (synthetic corpora only)
    fold: int = -1  # "nonverbal" only: fold k of `folds` speaker-grouped folds (Test k, Val k + 1); -1: 70/15/15
    folds: int = 5
    feature_set: str = "ComParE"
    cache_dir: str = ""  # empty: <workdir>/feature_cache
    recompute_features: bool = False  # features of every split from audio even where the release ships CSVs
    workers: int = 0  # feature-extraction processes; 0: one per CPU core
    tasks: tuple[str, ...] = ()  # subset of the dataset's heads (single-task ablation); empty: all
    trunk: tuple[int, ...] = (128, 64)
    head_hidden: int = 32
    log_var_init: float = -0.33
    init_scheme: str = "flax"  # Dense initialisation: "flax" (LeCun normal, zero biases) or "torch" (the reference's)
    scale_targets: bool = False  # standardise regression targets (age) on Train; baseline: years, unscaled
    intensity_loss: str = "mse"  # "mse" (baseline) or "ccc"
    balance_classes: bool = False  # weight each class's cross-entropy by n / (classes * n_c) on Train (for UAR)
    seeds: tuple[int, ...] = (101, 102, 103, 104, 105)
    batch_size: int = 8
    max_epochs: int = 20
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # or "cosine": decays to 0 over the max_epochs budget
    weight_decay: float = 1e-4  # coupled L2: added to the gradient before Adam
    input_dropout: float = 0.0  # probability of zeroing each standardised input feature of a training row
    patience: int = 5
    min_delta: float = 0.1
    restore: str = "best"  # "best" validation-loss epoch, or "last" (the reference's behaviour)
    # What `predict` uses: the seed best on Val (baseline) or the mean of every seed's predictions (`ensemble`);
    # `shrink`: regression outputs pulled toward the training mean by a factor chosen on Val
    ensemble: bool = False
    shrink: bool = False
    checkpoint_every: int = 1  # epochs between orbax checkpoints (the final epoch is always saved)
    strategy: str = "auto"  # "auto" (vmap on accelerators, map on CPU), "vmap" or "map"
    # Devices per mesh axis (-1: all the others). Seeds are split over `seeds` (padded with inert copies of the
    # first seed to a multiple of it; their results are dropped); `data` > 1 also splits the training rows and
    # every mini-batch (batch_size must be divisible by it). Seeds are the outer axis, data the inner one.
    mesh: dict = dataclasses.field(default_factory=lambda: {"seeds": -1, "data": 1})
    ccc_variant: str = "population"  # or "reference" (variances 1/(N-1), covariance 1/N)

    def __post_init__(self):
        for name, allowed in (("dataset", DATASETS), ("lr_schedule", LR_SCHEDULES),
                              ("intensity_loss", INTENSITY_LOSSES), ("restore", RESTORES),
                              ("init_scheme", INIT_SCHEMES), ("ccc_variant", CCC_VARIANTS), ("strategy", STRATEGIES)):
            value = getattr(self, name)
            check(value in allowed, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        unknown = [t for t in self.tasks if t not in TASKS[self.dataset]]
        check(not unknown, f"tasks: unknown task(s) {', '.join(map(str, unknown))} (dataset {self.dataset!r} has "
                           f"{', '.join(TASKS[self.dataset])})")
        check(len(self.seeds) > 0 and len(set(self.seeds)) == len(self.seeds),
              f"seeds must be distinct and at least one, got {self.seeds}")
        for name in ("batch_size", "max_epochs", "checkpoint_every", "head_hidden", "folds"):
            value = getattr(self, name)
            check(positive_int(value), f"{name} must be an integer >= 1, got {value!r}")
        check(all(positive_int(w) for w in self.trunk), f"trunk widths must be integers >= 1, got {self.trunk}")
        check(positive_int(self.patience), f"patience must be an integer >= 1, got {self.patience!r}")
        check(finite(self.learning_rate) and self.learning_rate > 0,
              f"learning_rate must be finite and > 0, got {self.learning_rate!r}")
        check(finite(self.weight_decay) and self.weight_decay >= 0,
              f"weight_decay must be finite and >= 0, got {self.weight_decay!r}")
        check(finite(self.input_dropout) and 0.0 <= self.input_dropout < 1.0,
              f"input_dropout must lie in [0, 1), got {self.input_dropout!r}")
        check(finite(self.min_delta) and self.min_delta >= 0, f"min_delta must be >= 0, got {self.min_delta!r}")


def settings(config) -> MultitaskSettings:
    """The track's settings from a config (a ConfigDict or a mapping); a bad field is a one-line `DataError`."""
    return from_config(MultitaskSettings, config)


def default_config() -> ml_collections.ConfigDict:
    """The baseline of the ExVo white paper: Adam 1e-3 with coupled L2 1e-4, batch 8, <= 20 epochs."""
    return as_config(MultitaskSettings())


def make_tiny(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Test-sized variant: two seeds and a fixed budget of 40 epochs, keeping the last one.

    With a few hundred clips the validation loss (ruled by age in years) bottoms out before the emotion
    and country heads are trained, so early stopping on it would stop too soon.
    """
    config.seeds = (101, 102)
    config.max_epochs = 40
    config.patience = 40
    config.restore = "last"
    config.checkpoint_every = 10
    return config
