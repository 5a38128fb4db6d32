"""Default hyperparameters of the multitask track (the ExVo baseline); experiment files override them."""

from __future__ import annotations

import ml_collections


def default_config() -> ml_collections.ConfigDict:
    """The baseline of the ExVo white paper: Adam 1e-3 with coupled L2 1e-4, batch 8, <= 20 epochs."""
    config = ml_collections.ConfigDict()
    config.dataset = "exvo"  # "exvo" (release layout) or "nonverbal" (Deeply corpus, speaker-disjoint split)
    config.data_dir = ""
    config.test_labels = False  # read Test labels from test_labels.csv (synthetic corpora only)
    # "nonverbal" only: fold k of `folds` speaker-grouped folds (Test = fold k, Val = fold k + 1); -1: 70/15/15
    config.fold = -1
    config.folds = 5
    config.feature_set = "ComParE"
    config.cache_dir = ""  # empty: <workdir>/feature_cache
    # Features of every split from audio even where the release ships feature CSVs (never a mix of both)
    config.recompute_features = False
    config.workers = 0  # feature-extraction processes; 0: one per CPU core
    config.tasks = ()  # subset of the dataset's heads (single-task ablation); empty: all
    config.trunk = (128, 64)
    config.head_hidden = 32
    config.log_var_init = -0.33
    config.init_scheme = "flax"  # Dense initialisation: "flax" (LeCun normal, zero biases) or "torch" (the reference's)
    config.scale_targets = False  # standardise regression targets (age) on Train; baseline: years, unscaled
    config.intensity_loss = "mse"  # "mse" (baseline) or "ccc"
    config.balance_classes = False  # weight each class's cross-entropy by n / (classes * n_c) on Train (for UAR)
    config.seeds = (101, 102, 103, 104, 105)
    config.batch_size = 8
    config.max_epochs = 20
    config.learning_rate = 1e-3
    config.lr_schedule = "constant"  # or "cosine": decays to 0 over the max_epochs budget
    config.weight_decay = 1e-4  # coupled L2: added to the gradient before Adam
    config.input_dropout = 0.0  # probability of zeroing each standardised input feature of a training row
    config.patience = 5
    config.min_delta = 0.1
    config.restore = "best"  # "best" validation-loss epoch, or "last" (the reference's behaviour)
    # What `predict` uses: the seed best on Val (baseline) or the mean of every seed's predictions (`ensemble`);
    # `shrink`: regression outputs pulled toward the training mean by a factor chosen on Val
    config.ensemble = False
    config.shrink = False
    config.checkpoint_every = 1  # epochs between orbax checkpoints (the final epoch is always saved)
    config.strategy = "auto"  # "auto" (vmap on accelerators, map on CPU), "vmap" or "map"
    # Devices per mesh axis (-1: all the others). Seeds are split over `seeds` (padded with inert copies of the
    # first seed to a multiple of it; their results are dropped); `data` > 1 also splits the training rows and
    # every mini-batch (batch_size must be divisible by it). Seeds are the outer axis, data the inner one.
    # Both may change when a run resumes, as may `strategy`.
    config.mesh = ml_collections.ConfigDict({"seeds": -1, "data": 1})
    config.ccc_variant = "population"  # or "reference" (variances 1/(N-1), covariance 1/N)
    config.team = "exvo-jax"
    return config


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
