"""One report of how far generated clips are from real ones in the classifier's space: FID, FD-infinity and KID.

`frechet_report(generated, reference)` takes generated features `[N, H]` and the reference as features
`[M, H]` or as statistics only (an official statistics file). The plain FID is the competition's number;
beside it FD-infinity (the FID extrapolated to infinitely many generated clips) and KID with its standard
error (`exvo_jax.metrics.small_sample`) compare fairly between sets of about 100 clips. KID needs the
reference's features, so it is None when only statistics are given.
"""

from __future__ import annotations

import numpy as np

from exvo_jax.tracks.generate.evaluation.reference import features_stats
from exvo_jax.metrics import GaussianStats, fd_infinity, frechet_distance_f64, kid


def frechet_report(generated: np.ndarray, reference: np.ndarray | GaussianStats, *, seed: int = 0) -> dict:
    """`{"fid", "fd_infinity", "kid", "kid_se", "n_generated", "n_reference"}` (`n_reference` None for statistics)."""
    generated = np.asarray(generated, np.float64)
    ref_stats = reference if isinstance(reference, GaussianStats) else features_stats(reference)
    if np.shape(ref_stats.mu)[0] != generated.shape[1]:
        raise ValueError(f"generated features have {generated.shape[1]} dimensions, the reference "
                         f"{np.shape(ref_stats.mu)[0]}: they come from different classifiers")
    gen_stats = features_stats(generated)
    report = {
        "fid": frechet_distance_f64(gen_stats.mu, gen_stats.sigma, ref_stats.mu, ref_stats.sigma),
        "fd_infinity": fd_infinity(generated, ref_stats.mu, ref_stats.sigma, seed=seed)["fd_infinity"],
        "kid": None,
        "kid_se": None,
        "n_generated": len(generated),
        "n_reference": None,
    }
    if not isinstance(reference, GaussianStats):
        report.update(kid(generated, reference), n_reference=len(reference))
    return report
