"""Multitask network on the Deeply nonverbal-vocalisation corpus: vocalisation type (16), age, sex.

Speaker-disjoint 70/15/15 split (`exvo_jax.data.nonverbal.split_corpus`); heads come from the corpus's task spec.
Run:   exvo-jax multitask train --config experiments/multitask/nonverbal.py[:egemaps] \
           --data-dir ../shared/data/nonverbal_vocalization --workdir runs/nonverbal
Tiny:  `:tiny` (eGeMAPS, two seeds; used by the tests)
Expected (validation speakers): type UAR about that of a logistic regression on the same features
(~0.6 with eGeMAPS, ~0.8 with ComParE; chance 1/16); sex UAR well above 0.5; age MAE near the mean predictor's.
"""

from exvo_jax.tracks.multitask.config import default_config


def get_config(arg=None):
    config = default_config()
    config.dataset = "nonverbal"
    config.feature_set = "eGeMAPS" if arg in ("egemaps", "tiny") else "ComParE"
    # ~350 training clips: the validation loss (ruled by age in years) bottoms out within a few epochs,
    # long before the type head is trained, so train the full budget and keep the last epoch.
    # Age in years (MSE ~40) would rule the shared trunk on a corpus this small: standardise it.
    config.scale_targets = True
    config.max_epochs = 40
    config.patience = 40
    config.restore = "last"
    if arg == "tiny":
        config.seeds = (101, 102)
        config.checkpoint_every = 10
    return config
