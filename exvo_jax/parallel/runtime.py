"""Starting a run on one or many processes, and saying at its start what it runs on.

`jax.distributed.initialize` must run before anything touches a device, so commands call
`initialize(args)` first thing after parsing their flags. Without flags or the usual environment
variables the run stays single-process and nothing is initialised, so the same command works on a
laptop. `describe_runtime` is the device and process record for a run's start log.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

import jax
from jax.sharding import Mesh

DEFAULT_TIMEOUT_S = 60
# Flag destination -> environment variable read when the flag is absent.
ENVIRONMENT = {
    "coordinator_address": "JAX_COORDINATOR_ADDRESS",
    "num_processes": "JAX_NUM_PROCESSES",
    "process_id": "JAX_PROCESS_ID",
}


def add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the multi-process flags; all optional, a run without them is single-process."""
    group = parser.add_argument_group("distributed (several processes)")
    group.add_argument("--coordinator-address", metavar="ADDR",
                       help="host:port of process 0, or 'auto' to detect the cluster (SLURM, Open MPI, "
                            "Kubernetes, Cloud TPU); default $JAX_COORDINATOR_ADDRESS")
    group.add_argument("--num-processes", type=int, metavar="N", help="default $JAX_NUM_PROCESSES")
    group.add_argument("--process-id", type=int, metavar="I", help="0..N-1; default $JAX_PROCESS_ID")
    group.add_argument("--local-device-ids", metavar="IDS",
                       help="comma-separated devices this process uses (e.g. 0,1); default all visible")
    group.add_argument("--distributed-timeout", type=int, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                       help=f"give up if the processes have not all connected by then (default {DEFAULT_TIMEOUT_S})")


def _value(values, name: str):
    if isinstance(values, Mapping):
        return values.get(name)
    return getattr(values, name, None)


def _device_ids(ids) -> list[int] | None:
    if ids is None or isinstance(ids, (list, tuple)):
        return None if ids is None else [int(i) for i in ids]
    return [int(i) for i in str(ids).split(",") if i.strip()]


def initialize(values: argparse.Namespace | Mapping | None = None) -> bool:
    """Joins the processes of a multi-process run; returns whether the run is distributed.

    `values` is the parsed namespace of `add_distributed_arguments` or a mapping with the same keys
    (`coordinator_address`, `num_processes`, `process_id`, `local_device_ids`, `distributed_timeout`);
    absent ones fall back to the environment variables in `ENVIRONMENT`. Coordinator "auto" lets jax
    detect a cluster. Nothing given: single process, nothing done. A second call does nothing. Call it
    before any computation: jax refuses once a backend has started.
    """
    if jax.distributed.is_initialized():
        return True
    values = {} if values is None else values
    found = {name: _value(values, name) for name in ENVIRONMENT}
    for name, variable in ENVIRONMENT.items():
        if found[name] is None and os.environ.get(variable):
            found[name] = os.environ[variable]
    timeout = int(_value(values, "distributed_timeout") or DEFAULT_TIMEOUT_S)
    device_ids = _device_ids(_value(values, "local_device_ids"))
    if found["coordinator_address"] == "auto":
        jax.distributed.initialize(local_device_ids=device_ids, initialization_timeout=timeout)
        return True
    missing = [name for name, value in found.items() if value is None]
    if len(missing) == len(found):
        return False
    if missing:
        flags = ", ".join(f"--{name.replace('_', '-')} (${ENVIRONMENT[name]})" for name in missing)
        raise ValueError(f"a multi-process run needs {flags} as well, or --coordinator-address auto on a cluster")
    jax.distributed.initialize(coordinator_address=found["coordinator_address"],
                               num_processes=int(found["num_processes"]), process_id=int(found["process_id"]),
                               local_device_ids=device_ids, initialization_timeout=timeout)
    return True


def describe_runtime(mesh: Mesh | None = None) -> dict:
    """Backend, processes, devices and mesh of this run, JSON-ready (starts the backend: call after `initialize`)."""
    info = {
        "backend": jax.default_backend(),
        "distributed": jax.distributed.is_initialized(),
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "local_device_count": jax.local_device_count(),
        "device_count": jax.device_count(),
        "local_device_kinds": sorted({d.device_kind for d in jax.local_devices()}),
        "device_kinds": sorted({d.device_kind for d in jax.devices()}),
    }
    if mesh is not None:
        info["mesh"] = {name: int(size) for name, size in mesh.shape.items()}
        info["mesh_axis_types"] = [str(t.name) for t in mesh.axis_types]
    return info


def format_runtime(info: Mapping) -> str:
    """One line for the log, e.g. `cpu: process 0/2, devices 2 local / 4 global (cpu), mesh data=4`."""
    line = (f"{info['backend']}: process {info['process_index']}/{info['process_count']}, devices "
            f"{info['local_device_count']} local / {info['device_count']} global ({', '.join(info['device_kinds'])})")
    if "mesh" in info:
        line += ", mesh " + " x ".join(f"{name}={size}" for name, size in info["mesh"].items())
    return line
