"""The workdir lock: one live run per workdir, and a clear message naming who holds it.

The lock is a small JSON file (`pid`, `host`, `started`) created with `O_CREAT | O_EXCL`, so that of two
processes racing for it exactly one wins, also on a filesystem shared by several hosts. (It is not
written through `exvo_jax.atomic`: a rename would replace an existing lock.) A lock whose holder is gone
(its pid no longer runs on this same host) is stale: it is removed with a warning and taken over. A
lock held from another host cannot be checked from here and is always respected; the error says which
file to delete if that run is known to be gone.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import socket
from pathlib import Path

from exvo_jax.data.errors import DataError

log = logging.getLogger(__name__)


class RunBusyError(DataError):
    """Another live process holds the workdir."""


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds a lock: process id, host name and start time (ISO 8601, UTC)."""

    pid: int
    host: str
    started: str

    @classmethod
    def this_process(cls) -> Holder:
        started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return cls(os.getpid(), socket.gethostname(), started)

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} (since {self.started})"


def acquire(path: str | Path) -> Holder:
    """Creates the lock file at `path` for this process; raises `RunBusyError` when a live run holds it."""
    path = Path(path)
    holder = Holder.this_process()
    text = json.dumps(dataclasses.asdict(holder)) + "\n"
    for _ in range(3):  # a stale lock removed by a concurrent process may reappear; retry a few times
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            _refuse_or_clear(path)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return holder
    raise RunBusyError(f"{path.parent}: could not take the lock {path}; another run keeps taking it")


def release(path: str | Path, holder: Holder) -> None:
    """Removes the lock file if it is still `holder`'s (never a lock another process has since taken)."""
    path = Path(path)
    if _read(path) == holder:
        path.unlink(missing_ok=True)


def _refuse_or_clear(path: Path) -> None:
    """Raises `RunBusyError` if the lock's holder may be alive; removes the lock if it is stale."""
    holder = _read(path)
    if holder is None and not path.exists():
        return  # released meanwhile
    if holder is None:
        raise RunBusyError(f"{path.parent}: the lock file {path} is unreadable; if no run is using this "
                           f"workdir, delete it")
    if holder.host != socket.gethostname():
        raise RunBusyError(f"{path.parent}: in use by {holder.describe()}; if that run is gone, delete {path}")
    if _alive(holder.pid):
        raise RunBusyError(f"{path.parent}: in use by {holder.describe()}; wait for it to finish or stop it")
    log.warning("%s: removing a stale lock of %s (that process is gone)", path.parent, holder.describe())
    path.unlink(missing_ok=True)


def _read(path: Path) -> Holder | None:
    try:
        fields = json.loads(path.read_text())
        return Holder(int(fields["pid"]), str(fields["host"]), str(fields["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # not a valid pid at all
        return False
    return True
