"""The report as one self-contained HTML file: PNGs and WAVs embedded as base64 data URIs, styles inline.

Nothing in the page points outside it (no scripts, fonts, style sheets or links to fetch), so it opens
offline and can be mailed as one file. Audio is re-encoded as 16-bit PCM WAV, cut to `MAX_AUDIO_SECONDS`.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping
from pathlib import Path

import soundfile as sf

from exvo_jax.report.tables import cell_text

MAX_AUDIO_SECONDS = 4.1

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { font-weight: bold; text-align: left; padding-bottom: 0.3em; }
.note { font-size: 0.85em; color: #555; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { font-size: 0.9em; color: #333; }
.audio td { vertical-align: middle; } audio { width: 200px; height: 32px; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; }
"""


def data_uri(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def wav_bytes(path: str | Path) -> bytes:
    """The clip as 16-bit PCM WAV bytes, at most `MAX_AUDIO_SECONDS` long."""
    wave, rate = sf.read(str(path), dtype="float32", always_2d=False)
    buffer = io.BytesIO()
    sf.write(buffer, wave[: int(MAX_AUDIO_SECONDS * rate)], rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _text(text: str) -> str:
    if text.startswith("```"):
        return f"<pre>{html.escape(text.strip('`').strip())}</pre>"
    return "<p>" + re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text)) + "</p>"


def _cell(value) -> str:
    numeric = value is None or isinstance(value, (int, float)) or "±" in str(value)
    opening = '<td class="num">' if numeric else "<td>"
    return f"{opening}{html.escape(cell_text(value))}</td>"


def _table(table: Mapping) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table["columns"])
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table["rows"])
    note = f'<p class="note">{html.escape(table["note"])}</p>' if table["note"] else ""
    return f"<table><caption>{html.escape(table['title'])}</caption><tr>{head}</tr>{body}</table>{note}"


def _figure(figure: Mapping, root: Path) -> str:
    uri = data_uri("image/png", (root / figure["file"]).read_bytes())
    caption = html.escape(figure["title"]) + (f" — {html.escape(figure['caption'])}" if figure["caption"] else "")
    return f'<figure><img src="{uri}" alt="{html.escape(figure["title"])}"><figcaption>{caption}</figcaption></figure>'


def _players(paths) -> str:
    return "".join(f'<audio controls preload="auto" src="{data_uri("audio/wav", wav_bytes(p))}"></audio>'
                   for p in paths)


def _audio(rows) -> str:
    body = "".join(f"<tr><td>{html.escape(r['emotion'])}</td><td>{_players(r['real'])}</td>"
                   f"<td>{_players(r['generated'])}</td></tr>" for r in rows)
    return f'<table class="audio"><caption>Listen: real and generated clips per emotion</caption>' \
           f"<tr><th>Emotion</th><th>Real</th><th>Generated</th></tr>{body}</table>"


def render_html(report: Mapping, root: Path) -> str:
    """The page; figure files are read relative to `root` (the run folder) and embedded."""
    nav = "".join(f'<a href="#{s["id"]}">{html.escape(s["title"])}</a>' for s in report["sections"])
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(report['title'])}"
             f"</title><style>{STYLE}</style></head><body><h1>{html.escape(report['title'])}</h1><nav>{nav}</nav>"]
    for section in report["sections"]:
        parts.append(f'<section id="{section["id"]}"><h2>{html.escape(section["title"])}</h2>')
        for block in section["blocks"]:
            if "text" in block:
                parts.append(_text(block["text"]))
            elif "table" in block:
                parts.append(_table(block["table"]))
            elif "figure" in block:
                parts.append(_figure(block["figure"], root))
            elif "audio" in block:
                parts.append(_audio(block["audio"]))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
