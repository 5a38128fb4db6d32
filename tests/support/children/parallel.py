"""Child processes of tests/test_parallel.py: jax sees several CPU devices only in a fresh process.

`python -m tests.support.children.parallel mesh` checks the mesh layer on the devices XLA_FLAGS forces;
`python -m tests.support.children.parallel worker --coordinator-address ... --process-id I` is one process
of a multi-process run. Each prints one JSON line of facts for the parent test to assert on.
"""

from __future__ import annotations

import argparse
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from exvo_jax import parallel


def scan_fn(x, w):
    """A per-element computation with a scan carry built from replicated values (needs check_vma=False)."""

    def body(carry, row):
        return jnp.tanh(carry * w + row), carry.sum()

    carry, sums = jax.lax.scan(body, jnp.zeros(x.shape[1:], x.dtype), x)
    return {"carry": carry, "sums": sums}


def plain_map(xs, w):
    return jax.lax.map(lambda x: scan_fn(x, w), xs)


def max_error(a, b) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(jax.tree_util.tree_leaves(parallel.to_host(a)),
                                                               jax.tree_util.tree_leaves(parallel.to_host(b))))


def mesh_facts() -> dict:
    facts = {"devices": jax.device_count()}
    seeds = parallel.make_mesh({"seeds": -1, "data": 1})
    grid = parallel.make_mesh({"data": 2, "speakers": -1})
    facts["mesh_shapes"] = [dict(seeds.shape), dict(grid.shape)]
    facts["axis_types"] = sorted({t.name for m in (seeds, grid) for t in m.axis_types})

    xs = np.random.default_rng(0).normal(size=(16, 5, 3)).astype(np.float32)  # [S, T, F]
    w = np.float32(0.7)
    on_seeds = jax.device_put(xs, parallel.sharded(seeds, "seeds"))
    copies = jax.device_put(xs, parallel.replicated(seeds))
    facts["sharded"] = [str(on_seeds.sharding.spec), len(on_seeds.addressable_shards),
                        list(on_seeds.addressable_shards[0].data.shape)]
    facts["replicated"] = [str(copies.sharding.spec), len(copies.addressable_shards),
                           list(copies.addressable_shards[0].data.shape)]

    one_device = jax.devices()[:1]
    reference = jax.jit(plain_map)(jax.device_put(xs, one_device[0]), w)
    single = parallel.make_mesh({"seeds": -1}, devices=one_device)
    program = jax.jit(parallel.per_device_map(scan_fn, seeds, "seeds", in_axes=(0, None)))
    out = program(on_seeds, w)
    facts["error_one_device"] = max_error(
        jax.jit(parallel.per_device_map(scan_fn, single, "seeds", in_axes=(0, None)))(xs, w), reference)
    facts["error_map"] = max_error(out, reference)
    facts["error_vmap"] = max_error(jax.jit(parallel.per_device_map(
        scan_fn, seeds, "seeds", in_axes=(0, None), strategy="vmap"))(on_seeds, w), reference)
    two_axes = parallel.make_mesh({"seeds": 4, "data": -1})
    facts["error_two_axes"] = max_error(jax.jit(parallel.per_device_map(scan_fn, two_axes, "seeds", in_axes=(0, None)))(
        jax.device_put(xs, parallel.sharded(two_axes, "seeds")), w), reference)
    facts["out"] = [str(out["carry"].sharding.spec), len(out["carry"].addressable_shards),
                    list(out["carry"].addressable_shards[0].data.shape)]

    # Per device: the compiled program never holds the whole stacked input; plain lax.map gathers it.
    whole = "f32[16,5,3]"
    ours = program.lower(on_seeds, w).compile().as_text()
    theirs = jax.jit(plain_map).lower(on_seeds, w).compile().as_text()
    facts["ours_all_gather"], facts["ours_whole_input"] = "all-gather" in ours, whole in ours
    facts["plain_all_gather"], facts["plain_whole_input"] = "all-gather" in theirs, whole in theirs

    errors = []
    for attempt in (lambda: parallel.check_divisible(6, parallel.make_mesh({"data": 4, "seeds": -1}), "data"),
                    lambda: program(on_seeds[:12], w),
                    lambda: parallel.make_mesh({"data": 3})):
        try:
            attempt()
            errors.append(None)
        except ValueError as error:
            errors.append(str(error))
    facts["errors"] = errors
    return facts


def worker_facts(argv) -> dict:
    parser = argparse.ArgumentParser()
    parallel.add_distributed_arguments(parser)
    args = parser.parse_args(argv)
    started = parallel.initialize(args)
    again = parallel.initialize(args)
    mesh = parallel.make_mesh({"data": -1})
    start, stop = parallel.process_shard(8)
    rows = np.arange(8 * 3, dtype=np.float32).reshape(8, 3)[start:stop]  # this process's rows only
    batch = parallel.global_batch({"x": rows, "id": np.arange(start, stop)}, mesh)
    total = jax.jit(lambda b: b["x"].sum())(batch)
    squares = jax.jit(parallel.per_device_map(lambda x: jnp.sum(x * x), mesh, "data"))(batch["x"])
    parallel.barrier("worker facts")
    return {
        "initialized": [started, again],
        "runtime": parallel.describe_runtime(mesh),
        "line": parallel.format_runtime(parallel.describe_runtime(mesh)),
        "rows": [start, stop],
        "main": parallel.is_main_process(),
        "global_shape": list(batch["x"].shape),
        "fully_addressable": batch["x"].is_fully_addressable,
        "total": float(parallel.to_host(total)),
        "batch": {k: v.tolist() for k, v in parallel.to_host(batch).items()},
        "squares": parallel.to_host(squares).tolist(),
    }


if __name__ == "__main__":
    facts = mesh_facts() if sys.argv[1] == "mesh" else worker_facts(sys.argv[2:])
    print(json.dumps(facts))
