"""Checkpoints of stacked GAN states through the run layer, independent of how the models are spread on devices.

On the mesh the states of S models are padded with copies of the first to a multiple of the `seeds` axis;
a checkpoint holds the S real models only, so a run may resume on another number of devices (the mesh is
a watch field) and re-pads on restore.
"""

from __future__ import annotations

import logging

import jax
from jax.sharding import Mesh

from exvo_jax.tracks.generate.state import GanState
from exvo_jax.parallel import pad_leading, replicated, sharded
from exvo_jax.run import Json, Run

log = logging.getLogger(__name__)


def first(tree, count: int):
    """The first `count` entries of every stacked leaf (no copy when there is no padding)."""
    if all(leaf.shape[0] == count for leaf in jax.tree.leaves(tree)):
        return tree
    return jax.jit(lambda t: jax.tree.map(lambda x: x[:count], t))(tree)


def save(run: Run, step: int, states: GanState, count: int) -> None:
    run.save(step, state=first(states, count), layout=Json({"models": count, "step": int(step)}))


def restore(run: Run, fresh: GanState, count: int, mesh: Mesh) -> tuple[int, GanState]:
    """(iterations done, stacked states on the mesh): the newest checkpoint of `run`, else (0, `fresh`)."""
    if run.latest_step is None:
        return 0, fresh
    fits = count % mesh.shape["seeds"] == 0
    template = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct((count, *x.shape[1:]), x.dtype,
                                       sharding=sharded(mesh, "seeds") if fits else replicated(mesh)), fresh)
    step, items = run.restore(state=template, layout=Json(None))
    states = items["state"]
    if not fits:
        pad = jax.jit(lambda t: pad_leading(t, mesh.shape["seeds"], fill="first")[0],
                      out_shardings=sharded(mesh, "seeds"))
        states = pad(states)
    log.info("%s: resuming at iteration %d", run.workdir, step)
    return int(step), states
