"""Speaker traits of the synthetic corpus: demographics, voice, recording channel and personal style.

Each speaker has a sex, an age (18-39.5) and a country (unbalanced, as in HUME-VB); a base f0 (by sex,
lower with age) and a vocal-tract length; jitter and shimmer growing with age; a home-recording channel
(band limits, microphone colour, noise floor, mains hum at the country's 50 or 60 Hz) drawn around
the country's typical set-up; a country rhythm style; and a personal way of expressing emotions: an
offset of the acoustic parameters, a perturbation of the emotion-to-acoustics map, and emotions the
speaker's bursts are perceived to carry anyway (label tendencies). These personal traits are what
few-shot personalisation can learn from a speaker's first clips.
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
class CountryStyle:
    """How a country shifts expression (latent offsets) and what recording conditions are typical."""

    param_offsets: dict[str, float]
    lowpass_hz: float
    highpass_hz: float
    snr_db: float
    noise_tilt: float
    hum_hz: float
    peak_hz: float


COUNTRY_STYLES: dict[str, CountryStyle] = {
    "China": CountryStyle({"regularity": 0.4, "f0_range": 0.3, "burst_rate": 0.2, "voicing": 0.2},
                          lowpass_hz=6300.0, highpass_hz=150.0, snr_db=29.0, noise_tilt=0.4, hum_hz=50.0,
                          peak_hz=2500.0),
    "South Africa": CountryStyle({"burst_rate": -0.3, "f0_level": -0.2, "breathiness": 0.2, "duration": 0.2},
                                 lowpass_hz=5600.0, highpass_hz=110.0, snr_db=26.0, noise_tilt=0.7,
                                 hum_hz=50.0, peak_hz=1500.0),
    "United States": CountryStyle({"f0_slope": 0.3, "mouth": 0.2},
                                  lowpass_hz=7000.0, highpass_hz=80.0, snr_db=32.0, noise_tilt=0.5,
                                  hum_hz=60.0, peak_hz=3200.0),
    "Venezuela": CountryStyle({"burst_rate": 0.4, "f0_range": 0.2, "regularity": -0.3, "tilt": -0.2},
                              lowpass_hz=5000.0, highpass_hz=180.0, snr_db=23.0, noise_tilt=0.3,
                              hum_hz=60.0, peak_hz=2000.0),
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
    jitter: float  # personal period-to-period f0 perturbation (relative)
    channel: Channel
    offset: np.ndarray  # [P] latent offset of the acoustic parameters
    map_delta: np.ndarray  # [P, 10] personal change of the emotion-to-acoustics map
    tendency: np.ndarray  # [10] personal label baseline (see labels.sample_tendencies)

    def latent_bias(self) -> np.ndarray:
        """[P] offsets from country style and age added to every clip of this speaker."""
        style = COUNTRY_STYLES[COUNTRIES[self.country]]
        bias = self.offset.copy()
        for name, value in style.param_offsets.items():
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
        style = COUNTRY_STYLES[COUNTRIES[country]]
        years = (age - AGE_RANGE[0]) / (AGE_RANGE[1] - AGE_RANGE[0])
        f0_mean = 205.0 if SEXES[sex] == "female" else 118.0
        f0 = f0_mean * 2.0 ** ((rng.normal(0.0, 1.0) + AGE_F0_SEMITONES * years) / 12.0)
        tract = (1.16 if SEXES[sex] == "female" else 1.0) * np.exp(rng.normal(0.0, 0.05))
        channel = Channel(
            highpass_hz=float(style.highpass_hz * np.exp(rng.normal(0.0, 0.4))),
            lowpass_hz=float(min(7800.0, style.lowpass_hz * np.exp(rng.normal(0.0, 0.15)))),
            peak_hz=float(style.peak_hz * np.exp(rng.normal(0.0, 0.35))),
            peak_gain_db=float(rng.normal(3.0, 3.0)),
            snr_db=float(style.snr_db + rng.normal(0.0, 5.0)),
            noise_tilt=float(np.clip(style.noise_tilt + rng.normal(0.0, 0.2), 0.0, 0.95)),
            hum_hz=style.hum_hz,
            hum_level=float(rng.uniform(0.0, 0.04) if rng.random() < 0.5 else 0.0),
        )
        speakers.append(Speaker(
            subject_id=f"{int(ids[i]):08x}",
            sex=sex,
            age=age,
            country=country,
            f0_hz=float(f0),
            tract_scale=float(tract),
            jitter=float(JITTER_YOUNG * np.exp(rng.normal(0.0, 0.12)) * (1.0 + JITTER_AGE_GAIN * years)),
            channel=channel,
            offset=rng.normal(0.0, OFFSET_SCALE, size=NUM_PARAMS),
            map_delta=rng.normal(0.0, MAP_DELTA_SCALE, size=(NUM_PARAMS, NUM_EMOTIONS)),
            tendency=tendencies[i],
        ))
    return speakers
