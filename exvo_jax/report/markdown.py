"""The report as Markdown: the same sections and tables as the HTML, figures linked as PNG files."""

from __future__ import annotations

from collections.abc import Mapping

from exvo_jax.report.tables import cell_text


def markdown_table(table: Mapping) -> str:
    lines = [f"**{table['title']}**", "", "| " + " | ".join(table["columns"]) + " |",
             "|" + "---|" * len(table["columns"])]
    lines += ["| " + " | ".join(cell_text(c) for c in row) + " |" for row in table["rows"]]
    if table["note"]:
        lines += ["", f"_{table['note']}_"]
    return "\n".join(lines)


def render_markdown(report: Mapping) -> str:
    parts = [f"# {report['title']}"]
    for section in report["sections"]:
        parts.append(f"## {section['title']}")
        for block in section["blocks"]:
            if "text" in block:
                parts.append(block["text"])
            elif "table" in block:
                parts.append(markdown_table(block["table"]))
            elif "figure" in block:
                figure = block["figure"]
                parts.append(f"![{figure['title']}]({figure['file']})" + (f"\n\n_{figure['caption']}_"
                                                                          if figure["caption"] else ""))
            elif "audio" in block:
                parts.append("\n".join(f"- {row['emotion']}: real {', '.join(row['real'])}; generated "
                                       f"{', '.join(row['generated'])}" for row in block["audio"]))
    return "\n\n".join(parts) + "\n"
