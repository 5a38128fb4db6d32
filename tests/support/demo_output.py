"""Reading what a demo run produced, for the demo tests on both corpus layouts: the blocks of one kind in its
report, and the pieces of its console output that a progress bar printed."""

from __future__ import annotations

BAR_MARKS = ("it/s", "s/it", "%|", "█", "━")  # what tqdm and rich bars print


def progress_bars(console: str) -> list[str]:
    """Pieces of `console` a progress bar printed (bars redraw with carriage returns)."""
    return [piece for piece in console.replace("\r", "\n").split("\n") if any(m in piece for m in BAR_MARKS)]


def blocks(report: dict, kind: str) -> list:
    return [b[kind] for s in report["sections"] for b in s["blocks"] if kind in b]
