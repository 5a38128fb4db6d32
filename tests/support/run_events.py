"""Reading back what a run logged, for the tests that check how runs open, resume and stop: the events of its
workdir's metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path


def events(workdir: Path) -> list[dict]:
    return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
