"""Generate track: mel GANs trained per emotion or class-conditionally, sampling, and their evaluation.

`settings` (the frozen settings), `config` (their defaults as a config), `data` (Train log-mels in memory,
each model's clips), `condition` (the conditional GAN's emotion vectors, for training and sampling), `state` / `steps` / `program` (the two-player state, one iteration, many models in one
compiled program), `train`, `sampler` (EMA generators -> log-mels -> wavs, the submission layout),
`previews` (sample grids and audio during training), `band_stats` (a fixed band-statistics Frechet
distance), `losses` (RaHinge, EMA), `evaluation` (the FID classifier, FID / FD-infinity / KID, Table 3,
HEEP and S_Gen), `assessment` (the trained generator against its untrained self: Table 3's numbers). The
networks live in `exvo_jax.models.msg_gan`.

The track's public surface is `__all__` (see `exvo_jax.tracks`); beside the common names it has the FID
classifier (`classifier_settings`, `train_classifier`), the folder-level FID and Table 3 (`fid_of_folder`,
`fid_table`) and the report's mel grid (`draw_grid`).
"""

from exvo_jax.tracks.generate.assessment import evaluate
from exvo_jax.tracks.generate.evaluation import classifier_settings, fid_of_folder, fid_table, train_classifier
from exvo_jax.tracks.generate.previews import draw_grid
from exvo_jax.tracks.generate.sampler import write_submission as predict
from exvo_jax.tracks.generate.config import GenerateSettings, settings
from exvo_jax.tracks.generate.training import report_data, train

__all__ = ["GenerateSettings", "classifier_settings", "draw_grid", "evaluate", "fid_of_folder", "fid_table",
           "predict", "report_data", "settings", "train", "train_classifier"]
