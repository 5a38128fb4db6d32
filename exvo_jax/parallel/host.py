"""Between each process's own rows and the global arrays a mesh computes on.

With several processes every host reads only its shard of the rows (`process_shard`), turns it into
one global array over the mesh (`global_batch`), and brings results back with `to_host`, which works
where `np.asarray` fails: on arrays whose shards live in other processes. With one process these
reduce to `device_put` and `np.asarray`, so the same code runs on a laptop and on a cluster.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh

from exvo_jax.parallel.mesh import check_divisible, sharded


def process_shard(n: int) -> tuple[int, int]:
    """The rows `[start, stop)` of `n` this process holds when they are split evenly between processes."""
    count, index = jax.process_count(), jax.process_index()
    if n % count:
        raise ValueError(f"{n} rows are not divisible by the {count} processes; pad them first (pad_leading)")
    size = n // count
    return index * size, (index + 1) * size


def _processes_along(mesh: Mesh, axis: str) -> int:
    """How many processes share the positions of mesh axis `axis` (1 when this process holds all of them)."""
    position = mesh.axis_names.index(axis)
    mine = {index[position] for index, device in np.ndenumerate(mesh.devices)
            if device.process_index == jax.process_index()}
    return mesh.shape[axis] // len(mine)


def place(tree, sharding):
    """Host values that are the same on every process as global arrays with `sharding`.

    Each process fills only the shards of its own devices, so this also splits rows that every process
    holds in full (a global batch read everywhere) over a mesh axis: `place(batch, sharded(mesh, "data"))`.
    """

    def one(x):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree_util.tree_map(one, tree)


def global_batch(local_tree, mesh: Mesh, axis: str = "data"):
    """Global arrays sharded over `axis` from each process's local rows (same local shape everywhere).

    The global leading size is the local one times the processes along `axis`; it must be divisible
    by the axis size. Every process must call this, each with its own rows; the global row order is
    the mesh's device order (process 0's rows first on meshes from `make_mesh` on CPU and GPU), so
    carry row ids in the same tree when results must be matched back to rows.
    """
    sharding = sharded(mesh, axis)
    processes = _processes_along(mesh, axis)

    def one(local):
        check_divisible(local.shape[0] * processes, mesh, axis)
        return jax.make_array_from_process_local_data(sharding, local)

    return jax.tree_util.tree_map(one, local_tree)


def to_host(tree):
    """Numpy copies of the full global values, on every process.

    Arrays spanning other processes are gathered (`process_allgather`), so with several processes
    every process must call this at the same point, with the same tree.
    """

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return multihost_utils.process_allgather(x, tiled=True)
        return np.asarray(x)

    return jax.tree_util.tree_map(one, tree)


def is_main_process() -> bool:
    """Whether this is process 0, the one that writes shared outputs and logs."""
    return jax.process_index() == 0


def barrier(name: str) -> None:
    """Waits until every process reaches the barrier called `name`; nothing to wait for with one process."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)
