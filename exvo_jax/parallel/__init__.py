"""One device mesh and the multi-process layer shared by every track.

`runtime` joins the processes of a run (`initialize`, first thing) and describes it; `mesh` builds
the mesh over the `data`, `seeds` and `speakers` axes and runs stacked work per device
(`per_device_map`); `host` moves rows between each process and the global arrays.
"""

from exvo_jax.parallel.host import barrier, global_batch, is_main_process, place, process_shard, to_host
from exvo_jax.parallel.mesh import (
    AXES,
    STRATEGIES,
    check_divisible,
    make_mesh,
    mesh_from_config,
    one_device_mesh,
    pad_leading,
    per_device_map,
    pick_strategy,
    replicated,
    sharded,
)
from exvo_jax.parallel.runtime import add_distributed_arguments, describe_runtime, format_runtime, initialize

__all__ = [
    "AXES",
    "STRATEGIES",
    "add_distributed_arguments",
    "barrier",
    "check_divisible",
    "describe_runtime",
    "format_runtime",
    "global_batch",
    "initialize",
    "is_main_process",
    "make_mesh",
    "mesh_from_config",
    "one_device_mesh",
    "pad_leading",
    "per_device_map",
    "place",
    "pick_strategy",
    "process_shard",
    "replicated",
    "sharded",
    "to_host",
]
