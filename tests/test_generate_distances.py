"""FD-infinity and KID on Gaussians, the FAD-style sanity check in log-mel space, and the HEEP ratings file."""

from __future__ import annotations

import numpy as np
import pytest

from exvo_jax.data.errors import DataError
from exvo_jax.data.schema import EMOTIONS, SAMPLE_RATE
from exvo_jax.features.logmel import MelGeometry, log_mel
from exvo_jax.tracks.generate.evaluation import heep_scores, proxy_ratings, read_ratings, s_gen_scores
from exvo_jax.tracks.generate.evaluation.heep import HUMAN, PROXY
from exvo_jax.metrics import fd_infinity, frechet_distance_f64, gaussian_stats, kid

RNG = np.random.default_rng(0)


def kid_draws(shift: float, draws: int = 30, n: int = 60, dim: int = 8) -> tuple[np.ndarray, float]:
    """KID values of `draws` fresh pairs of samples and their mean jackknife standard error."""
    results = [kid(RNG.normal(size=(n, dim)), RNG.normal(size=(n, dim)) + shift) for _ in range(draws)]
    return np.array([k["kid"] for k in results]), float(np.mean([k["kid_se"] for k in results]))


def test_kid_is_unbiased_and_its_standard_error_follows_the_spread_of_repeated_draws():
    """Measured ratios of the jackknife standard error to the spread of 40 draws: 1.5 (equal distributions,
    where the jackknife is conservative), 1.17 (shift 0.2), 1.07 (shift 0.5)."""
    same, same_se = kid_draws(0.0)
    assert abs(same.mean()) < 3 * same.std(ddof=1) / np.sqrt(len(same))  # unbiased: centred on 0
    assert (same < 0).any()
    assert 1.0 < same_se / same.std(ddof=1) < 2.5
    shifted, shifted_se = kid_draws(0.5)
    assert 0.7 < shifted_se / shifted.std(ddof=1) < 1.5
    assert shifted.mean() > 3 * shifted_se


def test_fd_infinity_removes_most_of_the_small_sample_bias():
    dim, n, shift = 16, 100, 0.3
    reference = RNG.normal(size=(20_000, dim)) + shift
    mu, sigma = reference.mean(0), np.cov(reference, rowvar=False)
    truth = dim * shift**2
    plain, extrapolated = [], []
    for _ in range(4):
        x = RNG.normal(size=(n, dim))
        plain.append(frechet_distance_f64(x.mean(0), np.cov(x, rowvar=False), mu, sigma))
        result = fd_infinity(x, mu, sigma, seed=1)
        extrapolated.append(result["fd_infinity"])
        assert result["slope"] > 0 and result["sizes"][-1] == n  # the FD falls as the subsets grow
    assert abs(np.mean(extrapolated) - truth) < 0.5 * abs(np.mean(plain) - truth), (plain, extrapolated, truth)


def test_fad_style_sanity_noisier_tones_are_farther_in_log_mel_space():
    """Ten sine tones 100-1000 Hz against the same tones with white noise at two levels (of the peak).

    The feature space is the fixed log-mel front end, each frame a 32-band vector (FAD pools per-frame
    embeddings the same way). The levels sit above the front end's floor (log(1e-6)): the standard
    check's 1e-4 / 1e-5 of the peak would vanish under it.
    """
    geometry = MelGeometry(n_mels=32, hop=128, frames=125)
    t = np.arange(geometry.num_samples) / SAMPLE_RATE
    tones = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in range(100, 1001, 100)]).astype(np.float32)

    def frames(waves):
        mels = np.asarray(log_mel(waves.astype(np.float32), geometry), np.float64)  # [10, 32, 125]
        return gaussian_stats(np.transpose(mels, (0, 2, 1)).reshape(-1, geometry.n_mels))

    clean = frames(tones)
    distances = [frechet_distance_f64(*frames(tones + level * 0.5 * RNG.normal(size=tones.shape)), *clean)
                 for level in (1e-2, 1e-3)]
    assert distances[0] > distances[1] > 0, distances


def write_ratings(path, rows, header=("File", *EMOTIONS)):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_ratings_file_is_read_by_name_and_every_problem_names_the_row(tmp_path):
    files = [f"{e}_0000.wav" for e in EMOTIONS[:3]]
    eye = np.eye(len(EMOTIONS))
    rows = [[f, *eye[i]] for i, f in reversed(list(enumerate(files)))]  # any row order
    ratings = read_ratings(write_ratings(tmp_path / "ok.csv", rows), [tmp_path / f for f in files])
    np.testing.assert_array_equal(ratings, eye[:3])
    cases = {
        "missing column": (rows, ("File", *EMOTIONS[:-1]), "missing column\\(s\\) Surprise"),
        "unknown file": ([*rows, ["Joy_0000.wav", *eye[0]]], None, "row 4: 'Joy_0000.wav' is not one of"),
        "twice": ([*rows, rows[0]], None, "row 4: 'Amusement_0000.wav' is rated twice"),
        "range": ([[files[0], 1.5, *eye[0][1:]], *rows[:2]], None, "row 1: Awe 1.5 is outside \\[0, 1\\]"),
        "number": ([[files[0], "high", *eye[0][1:]], *rows[:2]], None, "row 1: Awe 'high' is not a number"),
        "unrated": (rows[:2], None, "no ratings for 1 generated file\\(s\\), e.g. Awe_0000.wav"),
    }
    for name, (case_rows, header, message) in cases.items():
        path = write_ratings(tmp_path / f"{name}.csv", case_rows, header or ("File", *EMOTIONS))
        with pytest.raises(DataError, match=message):
            read_ratings(path, files)


def test_heep_and_s_gen_carry_their_source():
    targets = ["Awe"] * 4 + ["Fear"] * 4
    ideal = np.eye(len(EMOTIONS))[[EMOTIONS.index(t) for t in targets]]
    heep = heep_scores(targets, ideal)
    assert heep == {"Awe": pytest.approx(1.0), "Fear": pytest.approx(1.0)}
    scores = s_gen_scores({"Awe": 2.0, "Fear": 4.0}, heep, HUMAN)
    assert scores["heep_source"] == HUMAN
    assert scores["per_emotion"]["Awe"]["s_gen"] == pytest.approx((1 / 2 + 1) / 2)
    assert scores["mean_s_gen"] == pytest.approx(((1 / 2 + 1) / 2 + (1 / 4 + 1) / 2) / 2)
    np.testing.assert_array_equal(proxy_ratings([[-0.2, 0.5, 1.3]]), [[0.0, 0.5, 1.0]])
    assert PROXY != HUMAN
