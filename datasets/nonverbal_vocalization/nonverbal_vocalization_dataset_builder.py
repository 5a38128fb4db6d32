"""Deeply nonverbal-vocalisation sample as a TFDS dataset, built from its folder without TensorFlow.

Real 16 kHz mono recordings in `<class>/<file>.wav`, labels from the file names (read with
`exvo_jax.data.nonverbal`): vocalisation type (16 classes), speaker, trial, sex, age in years,
location, recording quality and noise. Splits train/validation/test are speaker-disjoint, 70/15/15
by speaker with a fixed seed (`exvo_jax.data.nonverbal.split_corpus`), so every build gives the same
partition; examples keep the corpus order (class folder, then file name).

Files are written as array_record and read back with `builder.as_data_source()` or
`tfds.data_source("nonverbal_vocalization", data_dir=...)`; `tfds.load` would need TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from exvo_jax.data.audio import load_audio
from exvo_jax.data.nonverbal import (
    LOCATIONS,
    NOISE_LEVELS,
    QUALITIES,
    SEXES,
    VOCAL_TYPES,
    Vocalisation,
    read_corpus,
    split_corpus,
)
from exvo_jax.data.pipeline import to_pcm16


class Builder(tfds.core.GeneratorBasedBuilder):
    """Nonverbal vocalisations (16 types) with speaker, sex and age."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: audio and file-name labels, speaker-disjoint 70/15/15 split."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Get the public sample of the Deeply Nonverbal Vocalization Dataset (github
    deeplyinc/Nonverbal-Vocalization-Dataset, CC BY-NC-ND 4.0) and pass the folder holding the
    16 class folders (`coughing/`, `crying/`, ...) and `Nonverbal_Vocalization_metadata.json` as
    `manual_dir`:

        builder = Builder(data_dir="~/tensorflow_datasets")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir="/data/nonverbal_vocalization"))
    """

    def _info(self) -> tfds.core.DatasetInfo:
        info = tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "file_id": tfds.features.Text(doc="file name without extension"),
                "speaker": tfds.features.Text(),
                "vocal_type": tfds.features.ClassLabel(names=VOCAL_TYPES),
                "trial": tfds.features.Scalar(np.int32),
                "sex": tfds.features.ClassLabel(names=SEXES),
                "age": tfds.features.Scalar(np.int32, doc="years"),
                "location": tfds.features.ClassLabel(names=LOCATIONS),
                "quality": tfds.features.ClassLabel(names=QUALITIES),
                "noise": tfds.features.ClassLabel(names=NOISE_LEVELS),
                # Raw bytes (2 per sample) rather than the default int64 list: smaller and much faster to write.
                "audio": tfds.features.Tensor(
                    shape=(None,), dtype=np.int16, encoding=tfds.features.Encoding.BYTES, doc="16 kHz mono int16 PCM"
                ),
            }),
            supervised_keys=("audio", "vocal_type"),
            disable_shuffling=True,
            homepage="https://github.com/deeplyinc/Nonverbal-Vocalization-Dataset",
            license="CC BY-NC-ND 4.0",
        )
        info.set_file_format(tfds.core.FileFormat.ARRAY_RECORD)
        return info

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Iterator]:
        splits = split_corpus(read_corpus(Path(dl_manager.manual_dir)))
        return {name: self._generate_examples(clips) for name, clips in splits.items()}

    def _generate_examples(self, clips: Sequence[Vocalisation]) -> Iterator[tuple[str, dict]]:
        for clip in clips:
            yield clip.file_id, {
                "file_id": clip.file_id,
                "speaker": clip.speaker,
                "vocal_type": clip.vocal_type,
                "trial": clip.trial,
                "sex": clip.sex,
                "age": clip.age,
                "location": clip.location,
                "quality": clip.quality,
                "noise": clip.noise,
                "audio": to_pcm16(load_audio(clip.path, allow_silence=True)),
            }
