"""Writes a deterministic synthetic corpus in the HUME-VB release layout and summarises it.

Layout: `data_info.csv` (File_ID in brackets, Split, Subject_ID, Age, Country code, ten emotions; Test
labels blank), `test_labels.csv` (the Test rows with their labels, for scoring) and `wav/<id>.wav`
(16-bit 16 kHz mono, -3 dBFS peak). Train/Val/Test are disjoint by speaker. Every random draw comes
from the seed (one generator for the plan, one per clip), so the same arguments give byte-identical files.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from exvo_jax.atomic import write_text
from exvo_jax.data.audio import write_wav
from exvo_jax.data.release import DATA_INFO, TEST_LABELS, bracket_id
from exvo_jax.data.schema import COUNTRIES, EMOTIONS, REQUIRED_COLUMNS, SAMPLE_RATE, SPLITS
from exvo_jax.synth.acoustics import emotion_latent, to_physical
from exvo_jax.synth.labels import blend_weights, sample_emotions
from exvo_jax.synth.speakers import SEXES, Speaker, sample_speakers, session_channel
from exvo_jax.synth.voice import render_clip

MIN_SPEAKERS = 3  # one per split
MIN_CLIPS_PER_SPEAKER = 3  # two support clips and at least one query clip
CLIP_NOISE = 0.22  # spread of the per-clip latent noise (what no model can explain)
_PLAN_STREAM, _CLIP_STREAM = 0, 1


@dataclasses.dataclass(frozen=True)
class PlannedClip:
    """One clip to render: its id, split, speaker and labels."""

    index: int
    file_id: str
    split: str
    speaker: Speaker
    emotions: np.ndarray  # [10]


@dataclasses.dataclass(frozen=True)
class CorpusSummary:
    """Counts and statistics of a written corpus."""

    root: Path
    clips: dict[str, int]  # per split
    speakers: dict[str, int]  # per split
    clip_seconds: tuple[float, float, float]  # min, mean, max
    total_seconds: float
    countries: dict[str, int]  # speakers per country
    sexes: dict[str, int]  # speakers per sex
    render_seconds: float

    @property
    def clips_per_second(self) -> float:
        return sum(self.clips.values()) / max(self.render_seconds, 1e-9)


def _validate(speakers: int, clips_per_speaker: int, seed: int, split_fractions: tuple[float, float, float]) -> None:
    for name, value in (("speakers", speakers), ("clips_per_speaker", clips_per_speaker), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if speakers < MIN_SPEAKERS:
        raise ValueError(f"speakers must be >= {MIN_SPEAKERS} (one per split), got {speakers}")
    if clips_per_speaker < MIN_CLIPS_PER_SPEAKER:
        raise ValueError(
            f"clips_per_speaker must be >= {MIN_CLIPS_PER_SPEAKER} (2 support clips and a query), "
            f"got {clips_per_speaker}"
        )
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if len(split_fractions) != 3 or any(f <= 0 for f in split_fractions) or abs(sum(split_fractions) - 1) > 1e-6:
        raise ValueError(f"split_fractions must be three positive numbers summing to 1, got {split_fractions}")


def _assign_splits(rng: np.random.Generator, count: int, fractions: tuple[float, float, float]) -> list[str]:
    """Split name per speaker; every split gets at least one speaker."""
    sizes = [max(1, int(round(f * count))) for f in fractions[1:]]
    train = count - sum(sizes)
    while train < 1:  # tiny corpora: take back from the largest of Val/Test
        sizes[int(np.argmax(sizes))] -= 1
        train += 1
    names = [SPLITS[0]] * train + [SPLITS[1]] * sizes[0] + [SPLITS[2]] * sizes[1]
    return [names[i] for i in rng.permutation(count)]


def plan_corpus(
    speakers: int,
    clips_per_speaker: int,
    seed: int,
    split_fractions: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3),
) -> list[PlannedClip]:
    """Speakers, splits, clip counts (>= 3, mean `clips_per_speaker`), ids and labels, in file order."""
    _validate(speakers, clips_per_speaker, seed, split_fractions)
    rng = np.random.default_rng([seed, _PLAN_STREAM])
    people = sample_speakers(rng, speakers)
    splits = _assign_splits(rng, speakers, split_fractions)
    extra = clips_per_speaker - MIN_CLIPS_PER_SPEAKER
    counts = MIN_CLIPS_PER_SPEAKER + (rng.poisson(extra, size=speakers) if extra else np.zeros(speakers, int))
    total = int(counts.sum())
    ids = rng.choice(np.arange(10_000, 10_000 + max(90_000, 4 * total)), size=total, replace=False)
    owners = np.repeat(np.arange(speakers), counts)  # [N]
    emotions = sample_emotions(rng, np.stack([people[o].tendency for o in owners]))  # [N, 10]
    split_rank = {name: i for i, name in enumerate(SPLITS)}
    order = sorted(range(total), key=lambda i: (split_rank[splits[owners[i]]], int(ids[i])))
    return [
        PlannedClip(index, str(int(ids[i])), splits[owners[i]], people[owners[i]], emotions[i])
        for index, i in enumerate(order)
    ]


def synthesise(clip: PlannedClip, seed: int) -> np.ndarray:
    """[T] float32 waveform of a planned clip; depends only on the clip and the seed."""
    rng = np.random.default_rng([seed, _CLIP_STREAM, clip.index])
    speaker = clip.speaker
    latent = emotion_latent(blend_weights(clip.emotions), speaker.map_delta) + speaker.latent_bias()
    latent = latent + rng.normal(0.0, CLIP_NOISE, size=latent.shape)
    return render_clip(to_physical(latent), speaker, session_channel(speaker.channel, rng), rng)


def _format_number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def _csv_text(clips: list[PlannedClip], blank_test: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REQUIRED_COLUMNS)
    for clip in clips:
        head = [bracket_id(clip.file_id), clip.split, clip.speaker.subject_id]
        if blank_test and clip.split == SPLITS[2]:
            writer.writerow(head + [""] * (2 + len(EMOTIONS)))
        else:
            labels = [_format_number(clip.speaker.age), str(clip.speaker.country)]
            writer.writerow(head + labels + [_format_number(float(v)) for v in clip.emotions])
    return buffer.getvalue()


def write_corpus(
    out_dir: str | Path,
    speakers: int,
    clips_per_speaker: int,
    seed: int,
    *,
    split_fractions: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3),
    overwrite: bool = False,
    progress: bool = True,
) -> CorpusSummary:
    """Writes the synthetic release layout under `out_dir` and returns its summary.

    Each speaker gets at least 3 clips and `clips_per_speaker` on average. A folder that already holds
    a `data_info.csv` is refused unless `overwrite`, which first removes its `wav/*.wav` files.
    """
    plan = plan_corpus(speakers, clips_per_speaker, seed, split_fractions)
    root = Path(out_dir)
    wav_dir = root / "wav"
    if (root / DATA_INFO).exists():
        if not overwrite:
            raise ValueError(f"{root}: already holds a corpus ({DATA_INFO}); pass overwrite=True to replace it")
        for old in wav_dir.glob("*.wav"):
            old.unlink()
    wav_dir.mkdir(parents=True, exist_ok=True)

    seconds = np.zeros(len(plan))
    start = time.perf_counter()
    for clip in tqdm(plan, desc="rendering clips", unit="clip", disable=not progress):
        wave = synthesise(clip, seed)
        seconds[clip.index] = wave.size / SAMPLE_RATE
        write_wav(wav_dir / f"{clip.file_id}.wav", wave)
    render_seconds = time.perf_counter() - start

    write_text(root / TEST_LABELS, _csv_text([c for c in plan if c.split == SPLITS[2]], blank_test=False))
    write_text(root / DATA_INFO, _csv_text(plan, blank_test=True))

    people = {c.speaker.subject_id: c.speaker for c in plan}
    return CorpusSummary(
        root=root,
        clips={s: sum(c.split == s for c in plan) for s in SPLITS},
        speakers={s: len({c.speaker.subject_id for c in plan if c.split == s}) for s in SPLITS},
        clip_seconds=(float(seconds.min()), float(seconds.mean()), float(seconds.max())),
        total_seconds=float(seconds.sum()),
        countries={name: sum(p.country == i for p in people.values()) for i, name in enumerate(COUNTRIES)},
        sexes={name: sum(p.sex == i for p in people.values()) for i, name in enumerate(SEXES)},
        render_seconds=render_seconds,
    )


def format_summary(summary: CorpusSummary) -> str:
    """Human-readable summary: counts per split, clip lengths, country and sex shares, speed."""
    total_speakers = sum(summary.speakers.values())
    lines = [f"synthetic corpus at {summary.root}"]
    lines += [f"  {s:<5} {summary.clips[s]:6d} clips  {summary.speakers[s]:5d} speakers" for s in SPLITS]
    low, mean, high = summary.clip_seconds
    lines.append(f"  clip length  min {low:.2f} s  mean {mean:.2f} s  max {high:.2f} s  "
                 f"total {summary.total_seconds / 60:.1f} min")
    lines.append("  countries    " + "  ".join(
        f"{name} {n} ({n / total_speakers:.0%})" for name, n in summary.countries.items()))
    lines.append("  sexes        " + "  ".join(
        f"{name} {n} ({n / total_speakers:.0%})" for name, n in summary.sexes.items()))
    lines.append(f"  rendered in  {summary.render_seconds:.1f} s ({summary.clips_per_second:.0f} clips/s)")
    return "\n".join(lines)
