"""The machine, package versions and devices a report was produced with."""

from __future__ import annotations

import os
import platform
from importlib import metadata

import jax

PACKAGES = ("exvo_jax", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "scipy", "scikit-learn",
            "librosa", "opensmile", "matplotlib")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, str]:
    """{"machine": ..., "python": ..., "<package>": version, "devices": ...} as strings."""
    devices = jax.devices()
    info = {
        "machine": f"{platform.platform()} ({platform.machine()}, {os.cpu_count()} CPUs)",
        "python": platform.python_version(),
        "JAX backend": jax.default_backend(),
        "devices": f"{len(devices)} x {', '.join(sorted({d.device_kind for d in devices}))}",
    }
    info.update({package: _version(package) for package in PACKAGES})
    return info
