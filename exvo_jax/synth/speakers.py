"""Speaker traits of the synthetic corpus: demographics, voice, accent, recording channel and personal style.

Each speaker has a sex, an age (18-39.5) and a country (unbalanced, as in HUME-VB); a base f0 (by sex,
lower with age) and a vocal-tract length; jitter and shimmer growing with age; and a personal way of
expressing emotions: an offset of the acoustic parameters, a perturbation of the emotion-to-acoustics
map, and emotions the speaker's bursts are perceived to carry anyway (label tendencies). These personal
traits are what few-shot personalisation can learn from a speaker's first clips.

Country is carried by the voice: an accent shifts burst rhythm, voicing, attack and pitch movement
(latent offsets) and vowel quality (second and third formants; the first follows mouth opening, an
emotion cue), each speaker's spread around the accent's.
The home-recording channel (band limits, microphone colour, noise floor, mains hum at 50 or
60 Hz) is drawn from one distribution for every country, so a model cannot read country off the
recording set-up instead of the voice; it also varies from one recording session (clip) to the next.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from exvo_jax.data.schema import AGE_RANGE, COUNTRIES, NUM_EMOTIONS
from exvo_jax.synth.acoustics import NUM_PARAMS, PARAMS
from exvo_jax.synth.labels import sample_tendencies

SEXES: tuple[str, ...] = ("female", "male")

# Speaker share per country, in COUNTRIES order (China, South Africa, United States, Venezuela).
COUNTRY_SHARES = np.array([0.20, 0.25, 0.40, 0.15])

# Latent shift from the youngest to the oldest speaker: older adults sound a little rougher and darker.
AGE_EFFECTS: dict[str, float] = {"roughness": 3.0, "tilt": 1.8, "breathiness": 1.3, "burst_rate": -1.0,
                                 "f0_range": -0.6}
AGE_F0_SEMITONES = -5.0  # base f0 change from age 18 to 39.5
OFFSET_SCALE = 0.5  # spread of a speaker's personal offset (latent units)
MAP_DELTA_SCALE = 0.25  # spread of a speaker's personal map perturbation
JITTER_YOUNG = 0.008  # typical relative period perturbation at 18; it grows sevenfold by 39.5
JITTER_AGE_GAIN = 6.0
VOWEL_SPREAD = 0.04  # log-spread of a speaker's F2 and F3 scales around the accent's
HUM_CHANCE = 0.5  # share of recording sessions with audible mains hum


@dataclasses.dataclass(frozen=True)
class Channel:
    """A home recording set-up: band limits, a colouring peak, a noise floor and mains hum."""

    highpass_hz: float
    lowpass_hz: float
    peak_hz: float
    peak_gain_db: float
    snr_db: float
    noise_tilt: float  # 0 white .. 0.95 dark noise floor
    hum_hz: float  # 50 or 60 Hz mains
    hum_level: float  # hum amplitude relative to the signal RMS


@dataclasses.dataclass(frozen=True)
class Accent:
    """How a country's speakers vocalise: offsets of the latent acoustic parameters and vowel quality."""

    param_offsets: dict[str, float]
    formants: tuple[float, float]  # F2, F3 scales of the country's vowel quality


ACCENTS: dict[str, Accent] = {
    "China": Accent({"regularity": 0.5, "attack": -0.4}, formants=(0.76, 0.92)),
    "South Africa": Accent({"duration": 0.4, "voicing": 0.4}, formants=(1.0, 1.16)),
    "United States": Accent({"f0_slope": 0.4, "attack": 0.4}, formants=(1.24, 1.0)),
    "Venezuela": Accent({"burst_rate": 0.5, "vibrato_rate": -0.5}, formants=(0.98, 0.82)),
}


@dataclasses.dataclass(frozen=True)
class Speaker:
    """One synthetic speaker; `offset` [P] and `map_delta` [P, 10] are the personal expression style."""

    subject_id: str
    sex: int  # index into SEXES
    age: float
    country: int  # index into COUNTRIES
    f0_hz: float  # base f0 of a neutral vocalisation
    tract_scale: float  # formant scaling; > 1 means a shorter vocal tract (higher formants)
    formants: tuple[float, float]  # F2, F3 scales of the speaker's vowels (accent and personal)
    jitter: float  # personal period-to-period f0 perturbation (relative)
    channel: Channel
    offset: np.ndarray  # [P] latent offset of the acoustic parameters
    map_delta: np.ndarray  # [P, 10] personal change of the emotion-to-acoustics map
    tendency: np.ndarray  # [10] personal label baseline (see labels.sample_tendencies)

    def latent_bias(self) -> np.ndarray:
        """[P] offsets from accent and age added to every clip of this speaker."""
        bias = self.offset.copy()
        for name, value in ACCENTS[COUNTRIES[self.country]].param_offsets.items():
            bias[PARAMS.index(name)] += value
        years = (self.age - AGE_RANGE[0]) / (AGE_RANGE[1] - AGE_RANGE[0])  # 0 .. 1
        for name, value in AGE_EFFECTS.items():
            bias[PARAMS.index(name)] += value * years
        return bias


def sample_ages(rng: np.random.Generator, count: int) -> np.ndarray:
    """Ages in [18, 39.5] in half-year steps, skewed towards the twenties."""
    low, high = AGE_RANGE
    ages = low + rng.gamma(2.2, 3.6, size=count)
    return np.clip(np.round(ages * 2.0) / 2.0, low, high)


def sample_channel(rng: np.random.Generator) -> Channel:
    """A speaker's home set-up, from the same distribution in every country."""
    return Channel(
        highpass_hz=float(120.0 * np.exp(rng.normal(0.0, 0.45))),
        lowpass_hz=float(min(7800.0, 6000.0 * np.exp(rng.normal(0.0, 0.2)))),
        peak_hz=float(2300.0 * np.exp(rng.normal(0.0, 0.45))),
        peak_gain_db=float(rng.normal(3.0, 3.0)),
        snr_db=float(rng.normal(27.5, 5.5)),
        noise_tilt=float(rng.uniform(0.1, 0.8)),
        hum_hz=float(rng.choice([50.0, 60.0])),
        hum_level=float(rng.uniform(0.005, 0.04)),
    )


def session_channel(channel: Channel, rng: np.random.Generator) -> Channel:
    """The set-up of one recording session: hum comes and goes, levels and band limits drift."""
    return dataclasses.replace(
        channel,
        lowpass_hz=float(min(7800.0, channel.lowpass_hz * np.exp(rng.normal(0.0, 0.05)))),
        snr_db=float(channel.snr_db + rng.normal(0.0, 3.0)),
        hum_level=float(channel.hum_level * rng.uniform(0.5, 1.5) if rng.random() < HUM_CHANCE else 0.0),
    )


def sample_speakers(rng: np.random.Generator, count: int) -> list[Speaker]:
    """`count` speakers with unique ids, all traits drawn from `rng`."""
    ids = rng.choice(16**8, size=count, replace=False)
    sexes = rng.integers(0, len(SEXES), size=count)
    ages = sample_ages(rng, count)
    countries = rng.choice(len(COUNTRIES), size=count, p=COUNTRY_SHARES)
    tendencies = sample_tendencies(rng, count)  # [S, 10]
    speakers = []
    for i in range(count):
        sex, age, country = int(sexes[i]), float(ages[i]), int(countries[i])
        accent = ACCENTS[COUNTRIES[country]]
        years = (age - AGE_RANGE[0]) / (AGE_RANGE[1] - AGE_RANGE[0])
        f0_mean = 205.0 if SEXES[sex] == "female" else 118.0
        f0 = f0_mean * 2.0 ** ((rng.normal(0.0, 1.0) + AGE_F0_SEMITONES * years) / 12.0)
        tract = (1.16 if SEXES[sex] == "female" else 1.0) * np.exp(rng.normal(0.0, 0.05))
        formants = np.array(accent.formants) * np.exp(rng.normal(0.0, VOWEL_SPREAD, size=2))
        speakers.append(Speaker(
            subject_id=f"{int(ids[i]):08x}",
            sex=sex,
            age=age,
            country=country,
            f0_hz=float(f0),
            tract_scale=float(tract),
            formants=(float(formants[0]), float(formants[1])),
            jitter=float(JITTER_YOUNG * np.exp(rng.normal(0.0, 0.12)) * (1.0 + JITTER_AGE_GAIN * years)),
            channel=sample_channel(rng),
            offset=rng.normal(0.0, OFFSET_SCALE, size=NUM_PARAMS),
            map_delta=rng.normal(0.0, MAP_DELTA_SCALE, size=(NUM_PARAMS, NUM_EMOTIONS)),
            tendency=tendencies[i],
        ))
    return speakers
