"""The mesh and multi-process layer: mesh shapes, per-device loops, global batches across two processes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AbstractMesh

from exvo_jax import parallel
from tests.support.child_processes import child_env, free_port
from tests.support.paths import REPO

CHILD = "tests.support.children.parallel"


def run_children(commands: list[tuple[list[str], dict]], timeout: float = 60) -> list[subprocess.CompletedProcess]:
    """Runs the children at once; kills all of them if any is still running after `timeout` seconds."""
    children = [subprocess.Popen([sys.executable, "-m", CHILD, *argv], env=env, cwd=REPO, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for argv, env in commands]
    results = []
    try:
        for child in children:
            out, err = child.communicate(timeout=timeout)
            results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    return results


def facts(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_mesh_and_per_device_map_on_eight_devices():
    got = facts(run_children([(["mesh"], child_env(8))])[0])
    assert got["devices"] == 8
    assert got["mesh_shapes"] == [{"seeds": 8, "data": 1}, {"data": 2, "speakers": 4}]
    assert got["axis_types"] == ["Auto"]
    assert got["sharded"] == ["P('seeds',)", 8, [2, 5, 3]]
    assert got["replicated"] == ["P()", 8, [16, 5, 3]]
    assert got["out"] == ["P('seeds',)", 8, [2, 3]]
    for key in ("error_one_device", "error_map", "error_vmap", "error_two_axes"):
        assert got[key] <= 1e-6, key
    # Each device runs its own slice: no gather and no whole-input buffer, unlike lax.map on the sharded input.
    assert not got["ours_all_gather"] and not got["ours_whole_input"]
    assert got["plain_all_gather"] and got["plain_whole_input"]
    assert got["errors"] == [
        "global batch 6 is not divisible by the 4 devices of mesh axis 'data'",
        "stacked size 12 is not divisible by the 8 devices of mesh axis 'seeds'",
        "mesh axes {'data': 3} use 3 devices, but there are 8; give one axis -1 to take the remaining devices",
    ]


def test_two_processes_share_a_global_batch():
    port = free_port()
    flags = ["worker", "--coordinator-address", f"127.0.0.1:{port}", "--num-processes", "2",
             "--distributed-timeout", "20"]
    from_environment = {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "1"}
    first, second = (facts(r) for r in run_children([
        ([*flags, "--process-id", "0"], child_env(2)),
        (["worker", "--distributed-timeout", "20"], child_env(2, **from_environment)),
    ]))
    for got, index in ((first, 0), (second, 1)):
        assert got["initialized"] == [True, True]
        assert got["runtime"]["process_index"] == index and got["runtime"]["process_count"] == 2
        assert got["runtime"]["local_device_count"] == 2 and got["runtime"]["device_count"] == 4
        assert got["runtime"]["mesh"] == {"data": 4}
        assert got["line"] == f"cpu: process {index}/2, devices 2 local / 4 global (cpu), mesh data=4"
        assert got["rows"] == [4 * index, 4 * index + 4] and got["main"] == (index == 0)
        assert got["global_shape"] == [8, 3] and not got["fully_addressable"]
    rows = np.arange(24, dtype=np.float32).reshape(8, 3)
    for key in ("total", "batch", "squares"):
        assert first[key] == second[key], key
    assert first["total"] == rows.sum()
    np.testing.assert_array_equal(first["batch"]["x"], rows)
    assert first["batch"]["id"] == list(range(8))
    np.testing.assert_array_equal(first["squares"], (rows * rows).sum(1))


def test_initialization_gives_up_after_the_timeout():
    argv = ["worker", "--coordinator-address", f"127.0.0.1:{free_port()}", "--num-processes", "2",
            "--process-id", "0", "--distributed-timeout", "1"]
    result = run_children([(argv, child_env(2))], timeout=45)[0]
    assert result.returncode != 0 and "DEADLINE_EXCEEDED" in result.stderr


def test_make_mesh_validates_axes():
    one = jax.devices()[:1]
    mesh = parallel.make_mesh({"speakers": -1}, devices=one)
    assert dict(mesh.shape) == {"speakers": 1} and [t.name for t in mesh.axis_types] == ["Auto"]
    for axes, message in (({"batch": 1}, "unknown mesh axis 'batch'"), ({}, "at least one axis"),
                          ({"data": -1, "seeds": -1}, "at most one"), ({"data": 0}, ">= 1 or -1"),
                          ({"data": 2}, "use 2 devices, but there are 1"),
                          ({"data": 2, "seeds": -1}, "cannot be split")):
        with pytest.raises(ValueError, match=message):
            parallel.make_mesh(axes, devices=one)


def test_check_divisible():
    mesh = AbstractMesh((4, 2), ("data", "seeds"))
    parallel.check_divisible(8, mesh, "data")
    with pytest.raises(ValueError, match="^global batch 6 is not divisible by the 4 devices of mesh axis 'data'$"):
        parallel.check_divisible(6, mesh, "data")
    with pytest.raises(ValueError, match="^seeds 3 is not divisible by the 2 devices"):
        parallel.check_divisible(3, mesh, "seeds", what="seeds")


def test_pad_leading():
    tree = {"a": np.arange(6.0).reshape(3, 2), "b": jnp.array([1, 2, 3])}
    padded, n = parallel.pad_leading(tree, 4)
    assert n == 3 and isinstance(padded["a"], np.ndarray) and isinstance(padded["b"], jax.Array)
    np.testing.assert_array_equal(padded["a"], [[0, 1], [2, 3], [4, 5], [0, 1]])
    np.testing.assert_array_equal(padded["b"], [1, 2, 3, 1])
    zeros, _ = parallel.pad_leading(tree, 5, fill="zeros")
    np.testing.assert_array_equal(zeros["b"], [1, 2, 3, 0, 0])
    same, n = parallel.pad_leading(tree, 3)
    assert same is tree and n == 3
    with pytest.raises(ValueError, match="same leading size"):
        parallel.pad_leading({"a": np.zeros(2), "b": np.zeros(3)}, 4)
    with pytest.raises(ValueError, match="fill"):
        parallel.pad_leading(tree, 4, fill="edge")


def test_per_device_map_on_one_device_is_lax_map():
    mesh = parallel.make_mesh({"seeds": -1}, devices=jax.devices()[:1])
    xs, w = jnp.arange(12.0).reshape(4, 3), jnp.float32(2.0)

    def fn(x, scale):
        return {"y": jnp.sin(x) * scale, "s": x.sum()}

    want = jax.lax.map(lambda x: fn(x, w), xs)
    for strategy in ("map", "vmap"):
        got = jax.jit(parallel.per_device_map(fn, mesh, "seeds", in_axes=(0, None), strategy=strategy))(xs, w)
        jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-6), got, want)
    with pytest.raises(ValueError, match="at least one stacked"):
        parallel.per_device_map(fn, mesh, "seeds", in_axes=None)(xs, w)
    assert parallel.pick_strategy("auto", "cpu") == "map" and parallel.pick_strategy("auto", "gpu") == "vmap"
    with pytest.raises(ValueError, match="unknown strategy"):
        parallel.pick_strategy("pmap")


def test_host_helpers_with_one_process():
    mesh = parallel.make_mesh({"data": -1}, devices=jax.devices()[:1])
    batch = parallel.global_batch({"x": np.arange(6.0).reshape(3, 2)}, mesh)
    assert batch["x"].shape == (3, 2) and str(batch["x"].sharding.spec) == "P('data',)"
    host = parallel.to_host({"x": batch["x"] * 2, "n": 3})
    assert isinstance(host["x"], np.ndarray)
    np.testing.assert_array_equal(host["x"], np.arange(6.0).reshape(3, 2) * 2)
    assert parallel.process_shard(7) == (0, 7) and parallel.is_main_process()
    parallel.barrier("nothing to wait for")


def test_distributed_arguments_and_single_process_initialize(monkeypatch):
    for variable in parallel.runtime.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    parser = argparse.ArgumentParser()
    parallel.add_distributed_arguments(parser)
    args = parser.parse_args(["--coordinator-address", "10.0.0.1:1234", "--num-processes", "4",
                              "--local-device-ids", "0,1"])
    assert (args.num_processes, args.process_id, args.distributed_timeout) == (4, None, 60)
    assert parallel.initialize(parser.parse_args([])) is False
    assert parallel.initialize() is False
    with pytest.raises(ValueError, match=r"--process-id \(\$JAX_PROCESS_ID\)"):
        parallel.initialize(args)
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "10.0.0.1:1234")
    with pytest.raises(ValueError, match="--num-processes"):
        parallel.initialize({})
    info = parallel.describe_runtime(parallel.make_mesh({"seeds": -1}, devices=jax.devices()[:1]))
    assert info["process_count"] == 1 and info["mesh"] == {"seeds": 1} and not info["distributed"]
    assert parallel.format_runtime(info).endswith("mesh seeds=1")
