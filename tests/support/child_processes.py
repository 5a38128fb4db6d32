"""Environment for the tests' child Python processes: a CPU backend with N host devices, this checkout on the
path, none of the parent's distributed-runtime variables; and a free port for a coordinator."""

from __future__ import annotations

import os
import socket

from exvo_jax.parallel.runtime import ENVIRONMENT
from tests.support.paths import REPO


def child_env(devices: int, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT.values()}
    flags = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    return {**env, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO), **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
