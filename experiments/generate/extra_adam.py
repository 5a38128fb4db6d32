"""Generate baseline trained with ExtraAdam: the ten per-emotion MSG-GANs, each a joint extragradient game.

Run:   exvo-jax generate train --config experiments/generate/extra_adam.py --data-dir <release> \
           --workdir runs/extra_adam
Tiny:  --config experiments/generate/extra_adam.py:tiny (16 x 64 log-mels, depth 4, latent 16, all countries,
       batch 16, EMA 0.95, 50 iterations of the ten models, each taking two gradients per player)
Expected (paper): some of the paper's per-emotion models were trained with ExtraAdam (Gidel et al. 2019) for
stability; FID in the range of the Adam baseline (4.81-8.27). The baseline's learning rates and betas; each
iteration extrapolates both players from w_t, then updates both from w_t with the gradients at the
extrapolated point, each phase on a fresh batch and fresh latents; the EMA follows the real updates.
"""

from exvo_jax.tracks.generate.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    config.mode = "per_emotion"
    config.optimizer = "extra_adam"
    config.country = "United States"
    if arg == "tiny":
        config = make_tiny(config)
        config.steps = 50  # ten models, two gradient evaluations per player per iteration
        config.checkpoint_every = config.sample_every = 25
    return config
