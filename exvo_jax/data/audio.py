"""Audio loading: any readable file to float32 mono at 16 kHz, with optional -3 dBFS peak normalisation.

A WAV file whose header declares more audio than the file holds (a truncated copy or download) is an
error: libsndfile silently returns the part that is there, which would train on half a clip.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from exvo_jax.atomic import atomic_path
from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import SAMPLE_RATE

PEAK_DBFS = -3.0
SILENCE_PEAK = 1e-5  # a clip whose absolute peak stays below this is treated as silent


def peak_normalise(wave: np.ndarray, dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Scales `wave` so that its absolute peak sits at `dbfs` (a silent wave is returned unchanged)."""
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak < SILENCE_PEAK:
        return wave.astype(np.float32)
    return (wave * (10.0 ** (dbfs / 20.0) / peak)).astype(np.float32)


def wav_truncation(path: Path) -> str | None:
    """What is missing from a RIFF/RIFX WAV file whose data chunk declares more bytes than it holds, else None.

    Other formats, and streamed WAVs whose data size is unknown (0xFFFFFFFF, also RF64), give None.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        riff = f.read(12)
        if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:12] != b"WAVE":
            return None
        order = "<" if riff[:4] == b"RIFF" else ">"
        offset, frame_bytes, rate = 12, 0, 0
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack(f"{order}4sI", f.read(8))
            offset += 8
            if chunk_id == b"fmt " and chunk_size >= 14 and len(fmt := f.read(14)) == 14:
                _, _, rate, _, frame_bytes = struct.unpack(f"{order}HHIIH", fmt)
            if chunk_id == b"data":
                held = size - offset
                if chunk_size == 0xFFFFFFFF or chunk_size <= held:
                    return None
                if frame_bytes and rate:
                    seconds = [n / frame_bytes / rate for n in (chunk_size, held)]
                    return (f"truncated file: the header declares {seconds[0]:.3f} s of audio, the file holds "
                            f"{seconds[1]:.3f} s ({held} of {chunk_size} bytes)")
                return f"truncated file: the header declares {chunk_size} bytes of audio, the file holds {held}"
            offset += chunk_size + (chunk_size & 1)  # chunks are padded to an even size
    return None


def read_audio_info(path: str | Path) -> sf._SoundFileInfo:
    """Header of an audio file; `DataError` naming the file if it is missing, empty, truncated or not audio."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: audio file is missing")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: audio file is empty (0 bytes)")
    if (truncation := wav_truncation(path)) is not None:
        raise DataError(f"{path}: {truncation}")
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DataError(f"{path}: not a readable audio file ({err})") from err


def load_audio(
    path: str | Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    normalise: bool = False,
    strict: bool = False,
    allow_silence: bool = False,
) -> np.ndarray:
    """Reads `path` as float32 mono at `sample_rate`.

    Stereo is averaged to mono and other rates are resampled (soxr), unless `strict`, where both are
    errors. Silent clips raise unless `allow_silence`. Every error names the file.
    """
    path = Path(path)
    info = read_audio_info(path)
    if strict and info.samplerate != sample_rate:
        raise DataError(f"{path}: wrong sample rate {info.samplerate} Hz (expected {sample_rate} Hz)")
    if strict and info.channels != 1:
        raise DataError(f"{path}: {info.channels} channels (expected mono)")
    try:
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DataError(f"{path}: corrupt audio ({err})") from err
    if wave.shape[0] == 0:
        raise DataError(f"{path}: audio has no samples")
    wave = wave.mean(axis=1)  # [T]
    if not np.all(np.isfinite(wave)):
        raise DataError(f"{path}: audio contains NaN or infinite samples")
    if rate != sample_rate:
        wave = soxr.resample(wave, rate, sample_rate).astype(np.float32)
    if not allow_silence and float(np.max(np.abs(wave))) < SILENCE_PEAK:
        raise DataError(f"{path}: audio is silent (peak below {SILENCE_PEAK:g})")
    return peak_normalise(wave) if normalise else wave.astype(np.float32)


def write_wav(path: str | Path, wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Writes 16-bit PCM atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp:
        sf.write(str(tmp), np.clip(wave, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
