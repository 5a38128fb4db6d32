"""HUME-VB (ExVo 2022 vocal bursts) as a TFDS dataset, built from the release folder without TensorFlow.

Configs: `audio` stores the 16 kHz waveform as int16 PCM; one config per precomputed feature set
(`compare`, `egemaps`, `deepspectrum`, `openxbow_125` ... `openxbow_2000`) stores the release's
`feats/<Set>/<id>.csv` vector instead. Splits: train, validation, test (the release's Train/Val/Test),
examples in `data_info.csv` order.

Blinded labels: the release's Test rows have no labels. Those examples have `has_labels=False` and
sentinel values age -1.0, country -1 and emotions all -1.0. `country` is therefore a plain int32
index into `exvo_jax.data.schema.COUNTRIES`, not a ClassLabel (which cannot hold -1). If the release
folder holds `test_labels.csv` (the synthetic corpus does), the test split carries those labels.

Files are written as array_record and read back with `builder.as_data_source()` or
`tfds.data_source("hume_vb/<config>", data_dir=...)`; `tfds.load` would need TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from exvo_jax.data.audio import load_audio
from exvo_jax.data.errors import DataError
from exvo_jax.data.pipeline import to_pcm16
from exvo_jax.data.release import TEST_LABELS, Clip, Corpus, read_feature_csv, read_release
from exvo_jax.data.schema import COUNTRIES, EMOTIONS, FEATURE_SETS, NUM_EMOTIONS

SPLIT_NAMES = {"Train": "train", "Val": "validation", "Test": "test"}
BLINDED = -1  # age, country and every emotion of an example without labels


@dataclasses.dataclass
class HumeVbConfig(tfds.core.BuilderConfig):
    """`feature_set` is a key of FEATURE_SETS, or None for the raw waveform."""

    feature_set: str | None = None


def config_name(feature_set: str) -> str:
    """`openXBOW/125` -> `openxbow_125` (config names cannot hold slashes)."""
    return feature_set.lower().replace("/", "_")


class Builder(tfds.core.GeneratorBasedBuilder):
    """HUME-VB vocal bursts with emotion intensities, age and country."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: raw audio and the release's precomputed feature sets."}
    BUILDER_CONFIGS = [
        HumeVbConfig(name="audio", description="16 kHz mono waveform as int16 PCM."),
        *(
            HumeVbConfig(
                name=config_name(name),
                feature_set=name,
                description=f"{name} features ({dim}-d float32) from feats/{name}/<id>.csv.",
            )
            for name, dim in FEATURE_SETS.items()
        ),
    ]
    DEFAULT_CONFIG_NAME = "audio"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Download the ExVo 2022 / HUME-VB release (by agreement with Hume AI) and pass its folder as
    `manual_dir`. The folder must hold `data_info.csv` and `wav/<id>.wav` (16 kHz mono); the feature
    configs also need `feats/<Set>/<id>.csv` (e.g. `feats/ComParE/58712.csv`). Example:

        builder = Builder(config="audio", data_dir="~/tensorflow_datasets")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir="/data/exvo2022"))
    """

    def _info(self) -> tfds.core.DatasetInfo:
        config: HumeVbConfig = self.builder_config
        if config.feature_set is None:
            # Raw bytes (2 per sample) rather than the default int64 list: smaller and much faster to write.
            signal = {"audio": tfds.features.Tensor(
                shape=(None,), dtype=np.int16, encoding=tfds.features.Encoding.BYTES, doc="16 kHz mono int16 PCM")}
        else:
            dim = FEATURE_SETS[config.feature_set]
            signal = {"features": tfds.features.Tensor(shape=(dim,), dtype=np.float32, doc=config.feature_set)}
        info = tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "file_id": tfds.features.Text(doc="release File_ID without brackets"),
                "speaker": tfds.features.Text(doc="Subject_ID"),
                "has_labels": tfds.features.Scalar(np.bool_, doc="False on blinded Test rows"),
                "age": tfds.features.Scalar(np.float32, doc="years; -1 if blinded"),
                "country": tfds.features.Scalar(np.int32, doc=f"index into {COUNTRIES}; -1 if blinded"),
                "emotions": tfds.features.Tensor(
                    shape=(NUM_EMOTIONS,), dtype=np.float32,
                    doc=f"intensities in [0, 1], order {EMOTIONS}; -1 if blinded",
                ),
                **signal,
            }),
            disable_shuffling=True,  # keep data_info.csv order: few-shot support sets are the first clips per speaker
            homepage="https://www.competitions.hume.ai/exvo2022",
        )
        info.set_file_format(tfds.core.FileFormat.ARRAY_RECORD)
        return info

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        root = Path(dl_manager.manual_dir)
        corpus = read_release(root, test_labels=(root / TEST_LABELS).exists())
        return {name: self._generate_examples(corpus, split) for split, name in SPLIT_NAMES.items()}

    def _generate_examples(self, corpus: Corpus, split: str) -> Iterator[tuple[str, dict]]:
        feature_set = self.builder_config.feature_set
        for clip in corpus.split(split):
            example = {"file_id": clip.file_id, "speaker": clip.speaker, **_labels(clip)}
            if feature_set is None:
                example["audio"] = to_pcm16(load_audio(clip.wav_path, allow_silence=True))
            else:
                example["features"] = _feature_vector(corpus, feature_set, clip)
            yield clip.file_id, example


def _labels(clip: Clip) -> dict:
    if not clip.labelled:
        return {"has_labels": False, "age": float(BLINDED), "country": BLINDED,
                "emotions": np.full(NUM_EMOTIONS, BLINDED, np.float32)}
    return {"has_labels": True, "age": clip.age, "country": clip.country, "emotions": clip.emotions}


def _feature_vector(corpus: Corpus, feature_set: str, clip: Clip) -> np.ndarray:
    path = corpus.feature_path(feature_set, clip.file_id)
    vector = read_feature_csv(path)
    if vector.shape != (FEATURE_SETS[feature_set],):
        raise DataError(f"{path}: {vector.shape[0]} features, expected {FEATURE_SETS[feature_set]} for {feature_set}")
    return vector
