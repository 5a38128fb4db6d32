"""The demo's report: one self-contained HTML page, the same content as Markdown, and as JSON.

`collect` turns a run folder into sections of tables, figures and audio; `tables` holds the paper's
layouts (Tables 2, 3, 4) and `paper` the paper's own numbers; `figures` draws the PNGs; `html` and
`markdown` render; `nonverbal` builds the report of a run on a nonverbal-vocalisation corpus.
`write_report` writes `report.html`, `report.md` and `report.json` into the run folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from exvo_jax.atomic import write_text
from exvo_jax.report.collect import build_report
from exvo_jax.report.html import render_html
from exvo_jax.report.markdown import render_markdown
from exvo_jax.report.nonverbal import build_nonverbal_report

OUTPUTS = {"html": "report.html", "markdown": "report.md", "json": "report.json"}


def write_report(out: str | Path, stages: dict, seconds: dict[str, float], size: str) -> dict[str, str]:
    """Builds the report of the run in `out` and writes its three forms there; returns their paths."""
    out = Path(out)
    nonverbal = stages["corpus"].get("layout") == "nonverbal"
    report = (build_nonverbal_report if nonverbal else build_report)(out, stages, seconds, size)
    write_text(out / OUTPUTS["json"], json.dumps(strict_json(report), indent=1, allow_nan=False) + "\n")
    write_text(out / OUTPUTS["markdown"], render_markdown(report))
    write_text(out / OUTPUTS["html"], render_html(report, out))
    return {kind: str(out / name) for kind, name in OUTPUTS.items()}


def strict_json(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["OUTPUTS", "strict_json", "write_report"]
