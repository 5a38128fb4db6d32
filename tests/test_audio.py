"""Audio loading: resampling, down-mixing, normalisation, and an error naming the file for bad audio."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from exvo_jax.data.audio import load_audio, peak_normalise, write_wav
from exvo_jax.data.errors import DataError
from tests.support.release_factory import tone


def test_resamples_and_downmixes(tmp_path):
    stereo = np.stack([tone(1.0, 44_100), tone(1.0, 44_100)], axis=1)
    sf.write(tmp_path / "s.wav", stereo, 44_100)
    wave = load_audio(tmp_path / "s.wav")
    assert wave.dtype == np.float32 and wave.ndim == 1 and abs(len(wave) - 16_000) <= 1
    with pytest.raises(DataError, match="s.wav: wrong sample rate 44100 Hz \\(expected 16000 Hz\\)"):
        load_audio(tmp_path / "s.wav", strict=True)
    sf.write(tmp_path / "st.wav", np.stack([tone(), tone()], axis=1), 16_000)
    with pytest.raises(DataError, match="st.wav: 2 channels \\(expected mono\\)"):
        load_audio(tmp_path / "st.wav", strict=True)


def test_peak_normalisation_to_minus_3_dbfs(tmp_path):
    write_wav(tmp_path / "a.wav", 0.1 * tone())
    wave = load_audio(tmp_path / "a.wav", normalise=True)
    assert np.max(np.abs(wave)) == pytest.approx(10 ** (-3 / 20), rel=1e-4)
    assert np.array_equal(peak_normalise(np.zeros(4, np.float32)), np.zeros(4, np.float32))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "audio file is missing"),
        (lambda p: p.write_bytes(b""), "audio file is empty \\(0 bytes\\)"),
        (lambda p: p.write_text("this is not audio"), "not a readable audio file"),
        (lambda p: p.write_bytes(open_wav_header_only()),
         "truncated file: the header declares 0.100 s of audio, the file holds 0.000 s"),
        (lambda p: sf.write(p, np.zeros(1600, np.float32), 16_000), "audio is silent"),
    ],
)
def test_bad_audio_names_the_file(tmp_path, make, message):
    path = tmp_path / "clip.wav"
    make(path)
    with pytest.raises(DataError, match=f"clip.wav: ({message})"):
        load_audio(path)


def open_wav_header_only() -> bytes:
    """A WAV whose header promises data that is not there (a truncated download)."""
    import io

    buf = io.BytesIO()
    sf.write(buf, tone(0.1), 16_000, format="WAV", subtype="PCM_16")
    return buf.getvalue()[:44]


def test_write_wav_is_atomic_and_16_bit(tmp_path):
    write_wav(tmp_path / "w.wav", tone())
    info = sf.info(tmp_path / "w.wav")
    assert (info.samplerate, info.channels, info.subtype) == (16_000, 1, "PCM_16")
    assert [p.name for p in tmp_path.iterdir()] == ["w.wav"]
