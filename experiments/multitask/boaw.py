"""Multitask baseline on bags of audio words over ComParE descriptors (`openXBOW/<size>`), five seeds.

`get_config("125" | "250" | "500" | "1000" | "2000")` picks the codebook size (default 2000); shipped
`feats/openXBOW/<size>/` CSVs are used when present, else the codebook is fit on the Train split.
Run:   exvo-jax multitask train --config experiments/multitask/boaw.py:2000 --data-dir <release> --workdir runs/boaw2000
Tiny:  `:tiny` (125 words, two seeds, 40 epochs, last epoch)
Expected (paper, Table 2): below ComParE functionals; larger codebooks do somewhat better.
"""

from exvo_jax.features.boaw import BOAW_SIZES
from exvo_jax.tracks.multitask.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    size = 125 if arg == "tiny" else int(arg or 2000)
    if size not in BOAW_SIZES:
        raise ValueError(f"codebook size {size} is not one of {BOAW_SIZES}")
    config.feature_set = f"openXBOW/{size}"
    if arg == "tiny":
        config = make_tiny(config)
    return config
