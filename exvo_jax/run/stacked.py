"""Checkpoints of stacked states (seeds, per-emotion models), independent of how they are spread on devices.

Trainers stack independent models along a leading axis and pad it with inert copies of the first model
to a multiple of the mesh axis that splits them. A checkpoint holds the real models only, with a JSON
`layout` item (`{"models": count, ...}` plus what the trainer adds), so a run may resume on another
number of devices (the mesh is a watch field) and is padded again on restore.

    save_stacked(run, step, states, count, epochs=...)
    step, states, layout = restore_stacked(run, template, mesh, "seeds")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from exvo_jax.parallel import pad_leading, place, sharded
from exvo_jax.run.workdir import Json, Run

log = logging.getLogger(__name__)


def first(tree, count: int):
    """The first `count` entries of every stacked leaf (no copy when there is no padding)."""
    if all(leaf.shape[0] == count for leaf in jax.tree.leaves(tree)):
        return tree
    return jax.jit(lambda t: jax.tree.map(lambda x: x[:count], t))(tree)


def save_stacked(run: Run, step: int, states: Any, count: int, **layout: Any) -> bool:
    """Checkpoint `step` of the first `count` (real) models of `states`, with `{"models": count, **layout}`."""
    return run.save(step, state=first(states, count), layout=Json({"models": int(count), **layout}))


def restore_stacked(run: Run, template: Callable[[dict], Any], mesh: Mesh, axis: str,
                    adjust: Callable[[Any, dict], Any] | None = None) -> tuple[int | None, Any, dict | None]:
    """(step, states on `mesh`, layout) of the newest checkpoint, or (None, None, None) when there is none.

    `template(layout)` gives the saved states' host template (numpy arrays shaped as saved: `[models, ...]`);
    `adjust(states, layout)`, where given, changes the host states before they are padded with copies of
    the first model to a multiple of the `axis` devices and placed sharded over `axis`.
    """
    if run.latest_step is None:
        return None, None, None
    _, items = run.restore(layout=Json(None))
    layout = items["layout"]
    step, items = run.restore(state=template(layout), layout=Json(None))
    states = jax.tree.map(np.asarray, items["state"])
    if adjust is not None:
        states = adjust(states, layout)
    states, _ = pad_leading(states, mesh.shape[axis], fill="first")
    log.info("%s: resuming after step %d", run.workdir, step)
    return int(step), place(states, sharded(mesh, axis)), layout
