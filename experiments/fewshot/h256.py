"""Few-shot personalisation with a 256-unit 2-layer LSTM (the paper tries H = 64, 128, 256).

Run:   exvo-jax fewshot train --config experiments/fewshot/h256.py --data-dir <release> --workdir runs/fewshot_h256
Tiny:  --config experiments/fewshot/h256.py:tiny (H=256, 2 s of audio per clip, 6 epochs, small grids)
Expected (paper, Table 4, test): mean CCC about 0.44 at H=256 after adaptation on the real release;
on the synthetic corpus adaptation raises the query mean CCC over the speaker-independent model.
Table 4 also lists every adaptation mode (`full`, `bias_head`, `lora`, `ridge`) at its best Val settings,
with its time, beside the Train-mean predictor and a ridge regression on eGeMAPS functionals.
"""

from exvo_jax.tracks.fewshot.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config(hidden=256)
    if arg == "tiny":
        config = make_tiny(config)
    return config
