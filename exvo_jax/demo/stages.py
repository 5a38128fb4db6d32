"""The demo's stage ledger: each stage runs once per run folder, is timed, and its JSON result is kept.

`<out>/stages.json` records the config the folder was started with and, for every finished stage, its
result and wall time. A rerun skips finished stages (their results are read back); a stage interrupted
part-way is run again, and the trainers inside it resume from their own checkpoints. A folder started
with another config is refused, naming the first difference, so two sizes never mix in one report.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exvo_jax.atomic import write_text
from exvo_jax.data.errors import DataError
from exvo_jax.run.config_diff import describe, differences

LEDGER = "stages.json"


class Stages:
    """Runs named stages into one run folder, skipping those already finished there."""

    def __init__(self, out: Path, config: dict, names: tuple[str, ...], stream=None):
        self.out, self.names, self.stream = Path(out), names, stream or sys.stderr
        path = self.out / LEDGER
        self.ledger = json.loads(path.read_text()) if path.exists() else {"config": config, "stages": {}}
        changes = differences(self.ledger["config"], config)
        if changes:
            raise DataError(f"{path}: this run folder was started with another config ({describe(changes)}); "
                            f"use another --out or delete the folder")
        self.ledger["config"] = config

    def run(self, name: str, work: Callable[[], Any]) -> Any:
        """`work()`'s JSON-able result: read back if `name` finished before, else computed, timed and recorded."""
        position = f"[{self.names.index(name) + 1}/{len(self.names)}] {name}"
        done = self.ledger["stages"].get(name)
        if done is not None:
            self._say(f"{position}: finished before in {done['seconds']:.1f} s, skipped")
            return done["result"]
        self._say(f"{position}: running")
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        self.ledger["stages"][name] = {"seconds": seconds, "result": result}
        write_text(self.out / LEDGER, json.dumps(self.ledger, indent=1) + "\n")
        self._say(f"{position}: done in {seconds:.1f} s")
        return result

    def seconds(self) -> dict[str, float]:
        """Wall seconds of every finished stage, in stage order (as first run, not as skipped)."""
        stages = self.ledger["stages"]
        return {name: stages[name]["seconds"] for name in self.names if name in stages}

    def _say(self, text: str) -> None:
        print(f"demo {text}", file=self.stream, flush=True)
