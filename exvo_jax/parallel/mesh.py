"""One device mesh for every track, and the per-device loop over a stacked axis.

The tracks stack independent work along a leading axis (seeds, speakers) and split batches of rows
(data). A run names how many devices each of those axes gets, `make_mesh({"seeds": -1})`, and code
places arrays on the mesh with `sharded` / `replicated`. Axes are always `Auto`: `jax.make_mesh`
defaults to `Explicit`, under which scans and `.at[].set` on sharded arrays fail to trace.

`per_device_map` is the reason this module exists: `lax.map` over a sharded axis all-gathers its
input and runs every element on every device. Under `jax.shard_map` each device loops (or vmaps)
over its own slice only, and on one device it is exactly `lax.map` (or `vmap`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from exvo_jax.data.errors import DataError

AXES = ("data", "seeds", "speakers")
STRATEGIES = ("map", "vmap")


def make_mesh(axes: Mapping[str, int], devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A mesh with the named axes, in the given order, sizes from `axes`; one size may be -1 (the rest).

    `axes` is any mapping (a dict or a `ConfigDict`), e.g. `{"seeds": -1, "data": 1}`. The sizes must
    use every device of `devices` (default: all devices of all processes).
    """
    sizes = dict(axes.items())
    if not sizes:
        raise ValueError(f"a mesh needs at least one axis (from {', '.join(AXES)})")
    unknown = [name for name in sizes if name not in AXES]
    if unknown:
        raise ValueError(f"unknown mesh axis {unknown[0]!r} (expected one of {', '.join(AXES)})")
    if any(size != -1 and size < 1 for size in sizes.values()):
        raise ValueError(f"mesh axis sizes must be >= 1 or -1 (all remaining devices), got {sizes}")
    if list(sizes.values()).count(-1) > 1:
        raise ValueError(f"at most one mesh axis may be -1, got {sizes}")
    devices = list(jax.devices() if devices is None else devices)
    fixed = math.prod(size for size in sizes.values() if size != -1)
    if -1 in sizes.values():
        if len(devices) % fixed:
            raise ValueError(f"{len(devices)} devices cannot be split with fixed mesh axes {sizes}")
        sizes = {name: len(devices) // fixed if size == -1 else size for name, size in sizes.items()}
    elif fixed != len(devices):
        raise ValueError(f"mesh axes {sizes} use {fixed} devices, but there are {len(devices)}; "
                         "give one axis -1 to take the remaining devices")
    return jax.make_mesh(tuple(sizes.values()), tuple(sizes), axis_types=(AxisType.Auto,) * len(sizes),
                         devices=devices)


def mesh_from_config(axes: Mapping[str, int], divisible: Sequence[tuple[int, str, str]] = (),
                     setting: str = "mesh") -> Mesh:
    """Every trainer's mesh: `make_mesh(axes)` from a settings' `mesh` field, checked against its batches.

    `divisible` holds `(count, axis, what)`: counts (global batches, meta-batches) that the devices of
    `axis` must split evenly, for axes the mesh has. A size that does not fit the devices or such a count
    is a `DataError` naming the setting.
    """
    try:
        mesh = make_mesh(axes)
        for count, axis, what in divisible:
            if axis in mesh.shape:
                check_divisible(count, mesh, axis, what=what)
    except ValueError as err:
        raise DataError(f"{setting} {dict(axes)}: {err}") from None
    return mesh


def one_device_mesh(axes: Sequence[str] = ("seeds", "data")) -> Mesh:
    """The mesh of a run on the default device alone: every named axis of size 1 (the programs' default)."""
    return make_mesh({axis: 1 for axis in axes}, devices=jax.devices()[:1])


def sharded(mesh: Mesh, axis: str) -> NamedSharding:
    """The leading axis split over the devices of mesh axis `axis`, the rest replicated."""
    return NamedSharding(mesh, PartitionSpec(axis))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of the mesh."""
    return NamedSharding(mesh, PartitionSpec())


def check_divisible(count: int, mesh: Mesh, axis: str, what: str = "global batch") -> None:
    """Raises a ValueError naming `what` when `count` rows cannot be split evenly over mesh axis `axis`."""
    devices = mesh.shape[axis]
    if count % devices:
        raise ValueError(f"{what} {count} is not divisible by the {devices} devices of mesh axis {axis!r}")


def pad_leading(tree, multiple: int, fill: str = "first"):
    """Pads every leaf's leading axis up to a multiple of `multiple`: `(padded_tree, n_real)`.

    `fill="first"` repeats element 0 (inert copies: a padded seed trains like seed 0 and is dropped);
    `fill="zeros"` appends zeros. Numpy leaves stay numpy. Slice results with `[:n_real]`.
    """
    if fill not in ("first", "zeros"):
        raise ValueError(f"fill must be 'first' or 'zeros', got {fill!r}")
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    leaves = jax.tree_util.tree_leaves(tree)
    counts = {leaf.shape[0] for leaf in leaves}
    if len(counts) != 1:
        raise ValueError(f"every leaf needs the same leading size to pad, got sizes {sorted(counts)}")
    n_real = counts.pop()
    extra = -n_real % multiple
    if extra == 0:
        return tree, n_real
    if fill == "first" and n_real == 0:
        raise ValueError("cannot repeat element 0 of an empty leading axis")

    def pad(leaf):
        xp = np if isinstance(leaf, np.ndarray) else jnp
        if fill == "first":
            tail = xp.repeat(leaf[:1], extra, axis=0)
        else:
            tail = xp.zeros((extra, *leaf.shape[1:]), leaf.dtype)
        return xp.concatenate([leaf, tail])

    return jax.tree_util.tree_map(pad, tree), n_real


def pick_strategy(strategy: str = "auto", backend: str | None = None) -> str:
    """`map` on CPU, `vmap` on accelerators; an explicit choice wins.

    On CPU, `vmap` over per-element copies of large weights streams every copy at each step and
    loses the cache; a loop of one element at a time is faster there.
    """
    if strategy == "auto":
        return "map" if (backend or jax.default_backend()) == "cpu" else "vmap"
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (expected auto, {', '.join(STRATEGIES)})")
    return strategy


def per_device_map(fn: Callable, mesh: Mesh, axis: str, *, in_axes: int | None | Sequence[int | None] = 0,
                   strategy: str = "map", check_vma: bool = False) -> Callable:
    """`mapped(*args)`: `fn` applied to every element of the stacked leading axis, each device on its own slice.

    `in_axes` says per positional argument whether it is stacked (0) or passed whole to every call
    (None; replicated), as in `jax.vmap`; every output is stacked on the leading axis and sharded over
    `axis`. `strategy` runs a device's slice with `lax.map` ("map") or `jax.vmap` ("vmap"); use
    `pick_strategy` to choose by backend. Only `axis` is manual: other mesh axes stay `Auto`, so `fn`
    may itself hold arrays sharded over them. `check_vma=False` lets `fn` build scan carries from
    replicated values. The stacked size must be a multiple of the axis size (see `pad_leading`).
    Call it inside `jax.jit`.
    """
    strategy = pick_strategy(strategy)

    def mapped(*args):
        axes = (in_axes,) * len(args) if in_axes is None or isinstance(in_axes, int) else tuple(in_axes)
        if len(axes) != len(args):
            raise ValueError(f"in_axes has {len(axes)} entries for {len(args)} arguments")
        if any(a not in (0, None) for a in axes):
            raise ValueError(f"in_axes entries must be 0 (stacked) or None (replicated), got {axes}")
        stacked = [i for i, a in enumerate(axes) if a == 0]
        if not stacked:
            raise ValueError("per_device_map needs at least one stacked argument (in_axes 0)")
        counts = {leaf.shape[0] for i in stacked for leaf in jax.tree_util.tree_leaves(args[i])}
        if len(counts) != 1:
            raise ValueError(f"stacked arguments disagree on the leading size: {sorted(counts)}")
        check_divisible(counts.pop(), mesh, axis, what="stacked size")

        def local(*local_args):  # each stacked argument holds this device's slice only
            if strategy == "vmap":
                return jax.vmap(fn, in_axes=axes)(*local_args)
            xs = tuple(local_args[i] for i in stacked)

            def one(x):
                full = list(local_args)
                for i, value in zip(stacked, x):
                    full[i] = value
                return fn(*full)

            return jax.lax.map(one, xs)

        specs = tuple(PartitionSpec(axis) if a == 0 else PartitionSpec() for a in axes)
        return jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=PartitionSpec(axis),
                             axis_names=frozenset({axis}), check_vma=check_vma)(*args)

    return functools.wraps(fn)(mapped)
