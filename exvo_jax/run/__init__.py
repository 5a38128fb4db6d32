"""The run layer: the one owner of a training workdir, shared by every track.

A trainer opens its workdir with `open_run` once its inputs are validated and gets a `Run`: the lock
(one live run per workdir), the resume rule (same config up to watch fields, same data), orbax
checkpoints of named items, a metrics log and atomic process-0 outputs. The exported model lives beside
it (`export_model` / `import_model`), readable by `predict` without opening the run. The workdir layout
is in `exvo_jax.run.layout`. Errors are `DataError`s, which the command line prints as one line.
"""

from exvo_jax.run.fingerprint import Fingerprint, data_fingerprint, describe_difference
from exvo_jax.run.lock import RunBusyError
from exvo_jax.run.model_export import export_model, import_model
from exvo_jax.run.resume import ResumeRefused
from exvo_jax.run.workdir import Json, Run, open_run

__all__ = [
    "Fingerprint",
    "Json",
    "ResumeRefused",
    "Run",
    "RunBusyError",
    "data_fingerprint",
    "describe_difference",
    "export_model",
    "import_model",
    "open_run",
]
