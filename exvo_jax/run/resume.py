"""The resume rule: a workdir continues only the run it was started with.

A workdir that holds `config.json` / `data.json` resumes when the new config and data are the same,
except for watch fields: settings that only extend the run (epoch budget, patience) or change how it
is watched or executed without changing what it computes (checkpoint cadence, evaluation batch size,
feature workers and cache). Any other change is refused with a message naming it; the user then picks
another workdir or starts afresh (`overwrite`). Each track declares its own watch fields (`WATCH` in its
`config.py`); this layer names none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from pathlib import Path

from exvo_jax.data.errors import DataError
from exvo_jax.run import config_diff
from exvo_jax.run.fingerprint import Fingerprint, describe_difference
from exvo_jax.run.layout import CONFIG_JSON, DATA_JSON

log = logging.getLogger(__name__)

HOW_TO_RESTART = "use another workdir, or overwrite this one to start afresh"


class ResumeRefused(DataError):
    """The workdir holds a run with a different config or different data."""


def check_resume(workdir: Path, config: dict, fingerprint: Fingerprint, watch_fields: Collection[str]) -> None:
    """Raises `ResumeRefused` unless `config` (plain, see `config_diff.plain_config`) and `fingerprint`
    continue the run recorded in `workdir`; logs the watch fields that changed."""
    config_path, data_path = workdir / CONFIG_JSON, workdir / DATA_JSON
    changes = config_diff.differences(json.loads(config_path.read_text()), config) if config_path.exists() else {}
    refused = {k: v for k, v in changes.items() if k not in watch_fields}
    if refused:
        raise ResumeRefused(f"{workdir}: the config differs from the run in this workdir "
                            f"({config_diff.describe(refused)}); {HOW_TO_RESTART}")
    if data_path.exists():
        difference = describe_difference(Fingerprint.from_json(data_path.read_text()), fingerprint)
        if difference:
            raise ResumeRefused(f"{workdir}: the data differ from the run in this workdir ({difference}); "
                                f"{HOW_TO_RESTART}")
    elif config_path.exists():
        log.warning("%s: no %s from the earlier run; its data can not be compared", workdir, DATA_JSON)
    if changes:
        log.info("%s: resuming with changed watch fields: %s", workdir, config_diff.describe(changes))
