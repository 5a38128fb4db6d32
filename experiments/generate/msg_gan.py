"""Generate baseline: ten unconditional MSG-GANs (one per emotion) on 128 x 512 log-mels, Adam, trained together.

Run:   exvo-jax generate train --config experiments/generate/msg_gan.py --data-dir <release> --workdir runs/msg_gan
       exvo-jax generate sample --workdir runs/msg_gan --all --n 100 --out runs/msg_gan/submission
Tiny:  --config experiments/generate/msg_gan.py:tiny (16 x 64 log-mels, depth 4, latent 16, all countries,
       batch 16, EMA 0.95, 100 iterations of the ten models)
Expected (paper, Table 3): per-emotion FID 4.81-8.27 in the classifier's feature space, S_Gen 0.174. Each model
trains on the Train clips whose intensity for its emotion is 1.0, US speakers only (as the paper, for stability),
with the reference's settings: Adam G 3e-3, D 3e-4, betas (0, 0.99), batch 32, EMA 0.999, a G step then a D step
on the same latents. All ten run in one compiled program, one model per device where there are ten.
"""

from exvo_jax.tracks.generate.config import default_config, make_tiny


def get_config(arg=None):
    config = default_config()
    config.mode = "per_emotion"
    config.optimizer = "adam"
    config.country = "United States"
    if arg == "tiny":
        config = make_tiny(config)
        config.steps = 100  # ten models per iteration
        config.checkpoint_every = config.sample_every = 50
    return config
