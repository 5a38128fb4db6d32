"""Generate track: mel GANs trained per emotion or class-conditionally, and sampling from them.

`config` (default settings), `data` (Train log-mels in memory, each model's clips), `condition` (the
conditional GAN's emotion vectors, for training and sampling), `state` / `steps` / `program` (the
two-player state, one iteration, many models in one compiled program), `checkpoints`,
`train` (`train_and_evaluate`), `sampler` (EMA generators -> log-mels -> wavs, the submission layout),
`previews` (sample grids and audio during training), `band_stats` (a fixed band-statistics Frechet
distance), `losses` (RaHinge, EMA), `evaluation` (the FID classifier, FID / FD-infinity / KID, Table 3,
HEEP and S_Gen). The networks live in `exvo_jax.models.msg_gan`.
"""
