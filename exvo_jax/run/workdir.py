"""`open_run`: the one owner of a workdir - lock, resume rule, checkpoints, metrics and outputs.

    with open_run(workdir, config, data_fingerprint(files)) as run:
        step, items = run.restore(state=state, history=Json([]))
        ...
        run.save(epoch, state=state, history=Json(history))
        run.log_metrics(epoch, train_loss=loss)
        run.write_json("results.json", results)

Call `open_run` only after the inputs have been read and validated: it records the config and the data
fingerprint as those of the run, and a bad input should stop the command before it claims a workdir.

Multi-process (`jax.distributed`; all hosts see the workdir on a shared filesystem): every process
calls `open_run`, `save`, `restore` and `export_model`, since orbax coordinates its reads and writes
across processes. Everything else - the lock, config.json, data.json, metrics, TensorBoard and
`write_text` / `write_json` outputs - is written by process 0 alone; the other processes wait for its
verdict on the lock and the resume rule and fail with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from exvo_jax.atomic import write_text
from exvo_jax.data.errors import DataError
from exvo_jax.run import lock
from exvo_jax.run.config_diff import plain_config
from exvo_jax.run.fingerprint import Fingerprint
from exvo_jax.run.layout import CHECKPOINTS, CONFIG_JSON, DATA_JSON, LOCK, RUN_RECORDS
from exvo_jax.run.metrics_log import MetricsLog
from exvo_jax.run.resume import check_resume


@dataclasses.dataclass(frozen=True)
class Json:
    """A JSON-able checkpoint item (history, counters): saved as JSON, restored as plain JSON data.

    In `Run.restore`, `Json(default)` is the template: `default` is what comes back when nothing is saved.
    """

    value: Any = None


class Run:
    """An open workdir (made by `open_run`): checkpoints, metrics and the run's output files."""

    def __init__(self, workdir: Path, manager: ocp.CheckpointManager, metrics: MetricsLog):
        self.workdir = workdir
        self.manager = manager
        self.is_primary = jax.process_index() == 0
        self._metrics = metrics

    @property
    def latest_step(self) -> int | None:
        """The step of the newest checkpoint, None when nothing is saved yet."""
        return self.manager.latest_step()

    def restore(self, **templates: Any) -> tuple[int | None, dict[str, Any]]:
        """(latest step, {name: restored item}) from the newest checkpoint, or (None, templates) when none.

        A template is a pytree of numpy / jax arrays or `jax.ShapeDtypeStruct`s (restored arrays take its
        types and shardings), None (restore as saved), or `Json(default)` for an item saved as `Json`;
        `Json` items come back unwrapped (the saved data, or `default`).
        """
        step = self.manager.latest_step()
        if step is None:
            return None, {name: t.value if isinstance(t, Json) else t for name, t in templates.items()}
        restored = self.manager.restore(step, args=ocp.args.Composite(
            **{name: _restore_arg(t) for name, t in templates.items()}))
        return step, {name: restored[name] for name in templates}

    def save(self, step: int, /, **items: Any) -> bool:
        """Saves the named items as checkpoint `step` (asynchronously; `open_run` waits on exit).

        An item is a pytree of numpy arrays or global `jax.Array`s (sharded ones included; host-local
        arrays of a multi-process run are not supported by orbax), or `Json(data)`. Device arrays are
        copied to host before `save` returns (orbax's default), so the next step may donate them.
        Returns whether a checkpoint was written.
        """
        return self.manager.save(step, args=ocp.args.Composite(**{name: _save_arg(v) for name, v in items.items()}))

    def log_metrics(self, step: int, **scalars: Any) -> None:
        """Appends `{"step", "time", name: float, ...}` to metrics.jsonl (and TensorBoard where available)."""
        self._metrics.scalars(step, **scalars)

    def log_event(self, name: str, **fields: Any) -> None:
        """Appends `{"event": name, "time", **fields}` to metrics.jsonl, e.g. the devices and mesh at start."""
        self._metrics.event(name, **fields)

    def write_text(self, name: str, text: str) -> Path:
        """Writes `<workdir>/name` atomically on process 0; returns its path on every process."""
        path = self.workdir / name
        if self.is_primary:
            write_text(path, text)
        return path

    def write_json(self, name: str, data: Any) -> Path:
        """`write_text` of `data` as indented JSON."""
        return self.write_text(name, json.dumps(data, indent=2) + "\n")


@contextlib.contextmanager
def open_run(workdir: str | Path, config: Any, fingerprint: Fingerprint, *, watch_fields: Collection[str],
             overwrite: bool = False, max_to_keep: int = 2) -> Iterator[Run]:
    """Takes the workdir for one run and yields its `Run`; see the module docstring for the protocol.

    `config` (a settings dataclass, a ConfigDict or a JSON-able mapping) and `fingerprint` must continue the
    run recorded in the workdir, if any, except for `watch_fields` (dotted keys the track declares); else
    `ResumeRefused`. A live run in
    the same workdir raises `RunBusyError`. `overwrite=True` first removes the earlier run's records
    (checkpoints, model, metrics, config and data files) and nothing else. On exit, also on an error,
    pending checkpoint saves finish, the writers close and the lock is released.
    """
    workdir = Path(workdir).expanduser().resolve()
    holder, failure = None, None
    if jax.process_index() == 0:
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            holder = lock.acquire(workdir / LOCK)
            _start(workdir, plain_config(config), fingerprint, overwrite, watch_fields)
        except BaseException as err:  # released here, reported to the other processes, then raised
            if holder is not None:
                lock.release(workdir / LOCK, holder)
            failure = err
    _agree(failure is None, workdir)
    if failure is not None:
        raise failure
    manager = metrics = None
    try:
        manager = ocp.CheckpointManager(workdir / CHECKPOINTS,
                                        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))
        metrics = MetricsLog(workdir, enabled=holder is not None)
        metrics.event("open", latest_step=manager.latest_step(), processes=jax.process_count())
        yield Run(workdir, manager, metrics)
    finally:
        try:
            if manager is not None:
                manager.wait_until_finished()
                manager.close()
        finally:
            if metrics is not None:
                metrics.close()
            if holder is not None:
                lock.release(workdir / LOCK, holder)


def _start(workdir: Path, config: dict, fingerprint: Fingerprint, overwrite: bool,
           watch_fields: Collection[str]) -> None:
    """Process 0, lock held: clears (overwrite) or checks (resume rule) the workdir, then records the run."""
    if overwrite:
        for name in RUN_RECORDS:
            path = workdir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    else:
        check_resume(workdir, config, fingerprint, watch_fields)
    write_text(workdir / CONFIG_JSON, json.dumps(config, indent=2, sort_keys=True) + "\n")
    write_text(workdir / DATA_JSON, fingerprint.to_json())


def _agree(ok: bool, workdir: Path) -> None:
    """Every process learns whether process 0 opened the run; the others fail with it."""
    if jax.process_count() == 1:
        return
    if not bool(multihost_utils.broadcast_one_to_all(np.int32(ok))):
        if jax.process_index() != 0:
            raise DataError(f"{workdir}: process 0 could not open the run (its error says why)")


def _save_arg(item: Any) -> ocp.args.CheckpointArgs:
    return ocp.args.JsonSave(item.value) if isinstance(item, Json) else ocp.args.StandardSave(item)


def _restore_arg(template: Any) -> ocp.args.CheckpointArgs:
    if isinstance(template, Json):
        return ocp.args.JsonRestore()
    return ocp.args.StandardRestore(template)
