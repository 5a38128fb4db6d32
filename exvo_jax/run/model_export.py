"""The exported model of a run: `model/model.json` (JSON metadata) beside `model/arrays/` (an orbax pytree).

What `predict` needs and nothing of the training: the caller picks the arrays (parameters, scaler
statistics, ...) and the metadata to rebuild the network around them. `model.json` is written last and
removed first, so its presence marks a complete export.

Multi-process: call `export_model` on every process (the orbax save is collective); only process 0
writes or removes `model.json`, and every process returns once it is written. `import_model` reads on
every process and needs no coordination.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from exvo_jax.atomic import write_text
from exvo_jax.data.errors import DataError
from exvo_jax.run.layout import MODEL_ARRAYS, MODEL_DIR, MODEL_JSON


def export_model(workdir: str | Path, arrays: Any, meta: dict) -> Path:
    """Saves `arrays` (a pytree of numpy / global jax arrays) and `meta` (JSON-able) under `<workdir>/model/`.

    Replaces an earlier export; returns the model folder.
    """
    root = Path(workdir).absolute() / MODEL_DIR
    primary = jax.process_index() == 0
    if primary:
        root.mkdir(parents=True, exist_ok=True)
        (root / MODEL_JSON).unlink(missing_ok=True)
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(root / MODEL_ARRAYS, arrays, force=True)
        checkpointer.wait_until_finished()
    if primary:
        write_text(root / MODEL_JSON, json.dumps(meta, indent=2) + "\n")
    if jax.process_count() > 1:  # every process returns once the export is complete
        multihost_utils.sync_global_devices("exvo_jax.run.export_model")
    return root


def import_model(workdir: str | Path, target: Any = None, *, command: str | None = None) -> tuple[Any, dict]:
    """(arrays, meta) of the model exported in `workdir`.

    `target` is the arrays' template: a pytree (restored arrays take its types and, for jax arrays or
    `jax.ShapeDtypeStruct`s, its shardings), a function `meta -> pytree` where the template depends on
    the metadata, or None to restore every array as numpy without a template. `command` names what
    produces the model (e.g. "exvo-jax multitask train") for the error raised when there is none.
    """
    root = Path(workdir).absolute() / MODEL_DIR
    if not (root / MODEL_JSON).exists() or not (root / MODEL_ARRAYS).exists():
        todo = f"run `{command}` with this workdir first" if command else "train a model in this workdir first"
        raise DataError(f"{root}: no exported model here ({MODEL_JSON} or {MODEL_ARRAYS}/ is missing); {todo}")
    meta = json.loads((root / MODEL_JSON).read_text())
    if callable(target):
        target = target(meta)
    path = root / MODEL_ARRAYS
    if target is not None:
        with ocp.StandardCheckpointer() as checkpointer:
            return checkpointer.restore(path, target), meta
    with ocp.PyTreeCheckpointer() as checkpointer:
        saved = checkpointer.metadata(path).item_metadata.tree
        as_numpy = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), saved)
        return checkpointer.restore(path, args=ocp.args.PyTreeRestore(restore_args=as_numpy)), meta
