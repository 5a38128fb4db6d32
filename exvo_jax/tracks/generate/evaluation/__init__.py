"""Evaluation of the Generate track in the feature space of a trained emotion classifier (the paper's FID).

Public API (every function takes workdirs and folders, and returns JSON-able dicts):

* `classifier_settings(config)` and `train_classifier(settings, workdir, *, overwrite=False, progress=True) -> dict`
  (`classifier`): trains the FID classifier (config: `experiments/generate/classifier.py`), exports it with the key of its weights and
  returns its held-out CCC per emotion (`held_out_ccc`, `held_out_mean_ccc`).
* `load_classifier(workdir) -> Classifier` (`features`): `Classifier.features(waves)` and
  `Classifier.file_features(paths)` give `(features [N, H], ratings [N, 10])` at each clip's last frame.
* `reference_features(classifier, classifier_dir, data_dir, split, emotions)` (`reference`): real clips'
  features per emotion, cached with statistics files in the competition's format.
* `frechet_report(generated, reference) -> dict` (`distances`): FID, FD-infinity, KID and its standard error;
  `fid_of_folder(generated_dir, classifier_dir, reference=... | reference_stats=... | data_dir=...)` of wavs.
* `score_folder(classifier_dir, generated_dir, data_dir, *, split="Train", ratings_csv=None) -> dict`
  (`generated`): per-emotion FID / FD-infinity / KID of a generation submission folder, recognition rate,
  HEEP (human ratings CSV, else the classifier proxy, labelled by `heep_source`) and S_Gen;
  `score_features(reference, features, outputs, ratings=None)` does the same on computed features.
* `fid_table(classifier_dir, data_dir, generated={name: folder}, out_dir, *, ratings={name: csv},
  split="Train") -> dict` (`table3`): Table 3 as Markdown, JSON and a heat map.
* `read_ratings(path, files)`, `proxy_ratings(outputs)`, `heep_scores(targets, ratings)`,
  `s_gen_scores(fid, heep, source)` (`heep`).

The classifier is `exvo_jax.models.cnn_lstm.CnnLstm`, trained by `exvo_jax.recognition.protocol`.
"""

from exvo_jax.tracks.generate.evaluation.classifier import classifier_settings, train_classifier
from exvo_jax.tracks.generate.evaluation.distances import fid_of_folder, frechet_report
from exvo_jax.tracks.generate.evaluation.features import Classifier, load_classifier
from exvo_jax.tracks.generate.evaluation.generated import score_features, score_folder
from exvo_jax.tracks.generate.evaluation.heep import heep_scores, proxy_ratings, read_ratings, s_gen_scores
from exvo_jax.tracks.generate.evaluation.reference import reference_features
from exvo_jax.tracks.generate.evaluation.table3 import fid_table

__all__ = [
    "Classifier",
    "classifier_settings",
    "fid_of_folder",
    "fid_table",
    "frechet_report",
    "heep_scores",
    "load_classifier",
    "proxy_ratings",
    "read_ratings",
    "reference_features",
    "s_gen_scores",
    "score_features",
    "score_folder",
    "train_classifier",
]
