"""HUME-VB schema: emotion, country and split names in the official order, and column names."""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = (
    "Awe",
    "Excitement",
    "Amusement",
    "Awkwardness",
    "Fear",
    "Horror",
    "Distress",
    "Triumph",
    "Sadness",
    "Surprise",
)
NUM_EMOTIONS = len(EMOTIONS)

# Integer codes 0..3 follow this (sorted) order, as in the release's `Country` column.
COUNTRIES: tuple[str, ...] = ("China", "South Africa", "United States", "Venezuela")
NUM_COUNTRIES = len(COUNTRIES)

SPLITS: tuple[str, ...] = ("Train", "Val", "Test")

# Columns of data_info.csv, selected by name (the release's column order is not fixed).
COL_FILE_ID = "File_ID"
COL_SPLIT = "Split"
COL_SPEAKER = "Subject_ID"
COL_AGE = "Age"
COL_COUNTRY = "Country"
REQUIRED_COLUMNS: tuple[str, ...] = (COL_FILE_ID, COL_SPLIT, COL_SPEAKER, COL_AGE, COL_COUNTRY) + EMOTIONS

SAMPLE_RATE = 16_000
# openSMILE ComParE_2016 and eGeMAPSv02 (functionals and low-level descriptors) are all NaN below one
# 60 ms analysis window: measured, 959 samples at 16 kHz give NaN, 960 give finite values.
OPENSMILE_MIN_SECONDS = 0.06
AGE_RANGE = (18.0, 39.5)

# Precomputed feature sets of the release (`feats/<Set>/<id>.csv`) and their dimensions.
FEATURE_SETS: dict[str, int] = {
    "ComParE": 6373,
    "eGeMAPS": 88,
    "DeepSpectrum": 4096,
    "openXBOW/125": 125,
    "openXBOW/250": 250,
    "openXBOW/500": 500,
    "openXBOW/1000": 1000,
    "openXBOW/2000": 2000,
}
