"""benchmarks/RESULTS.md: each benchmark owns one `## <name>` section, replaced in place when re-recorded."""

from __future__ import annotations

from pathlib import Path

from exvo_jax.atomic import write_text

RESULTS = Path(__file__).with_name("RESULTS.md")


def record_section(heading: str, section: str, path: Path = RESULTS) -> None:
    """Replaces the section starting with the line `heading` (or appends it), leaving other sections alone."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(heading + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(path, text)
