"""The report's renderers and tables on hand-made inputs: embedded media, absent cells, the paper's rows."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import soundfile as sf

from exvo_jax.data.audio import write_wav
from exvo_jax.report import strict_json, tables
from exvo_jax.report.checks import learning_checks
from exvo_jax.report.collect import adaptation_panels
from exvo_jax.report.figures import heat_maps
from exvo_jax.report.html import MAX_AUDIO_SECONDS, render_html
from exvo_jax.report.markdown import render_markdown


def small_report(tmp_path) -> dict:
    heat_maps(tmp_path / "report" / "grid.png", {"full": (np.array([[0.1, 0.2], [0.3, np.nan]]), ["K=1", "K=5"],
                                                          ["lr=0.1", "lr=1"])}, "learning rate", "K")
    write_wav(tmp_path / "long.wav", np.sin(np.arange(16000 * 6) / 10.0).astype(np.float32) * 0.5)
    table3 = tables.table3({"trained": {"Awe": 1.5}, "untrained": {"Awe": 9.0}}, None)
    return {"title": "t <&> t", "sections": [{"id": "a", "title": "A", "blocks": [
        {"text": "plain `code` <b>"}, {"table": table3},
        {"figure": {"title": "grid", "file": "report/grid.png", "caption": ""}},
        {"audio": [{"emotion": "Awe", "real": [str(tmp_path / "long.wav")], "generated": []}]}]}]}


def test_html_embeds_every_image_and_clip_and_refers_to_nothing_outside(tmp_path):
    page = render_html(small_report(tmp_path), tmp_path)
    assert "<b>" not in page and "t &lt;&amp;&gt; t" in page  # text is escaped
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(b"\x89PNG")
    clips = re.findall(r'<audio controls preload="auto" src="data:audio/wav;base64,([^"]+)"', page)
    wave, rate = sf.read(io.BytesIO(base64.b64decode(clips[0])))
    assert rate == 16000 and len(wave) == int(MAX_AUDIO_SECONDS * 16000)  # cut from 6 s
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "http" not in page.replace("http-equiv", "")


def test_absent_numbers_are_dashes_and_the_papers_rows_are_marked(tmp_path):
    report = small_report(tmp_path)
    markdown = render_markdown(report)
    assert "| Awe | — | — | — | — | — | — | — | 1.500 | 9.000 |" in markdown
    assert "| all (paper, real data) | 4.81-8.27 | — | — | — | — | 0.174 | — | — | — |" in markdown
    assert "absent, not estimated" in markdown

    measured = {k: {"Awe": v, "Fear": v} for k, v in (("fid", 2.0), ("fd_infinity", 1.5), ("kid", 0.1),
                                                        ("recognised", 0.5), ("heep", 0.2), ("s_gen", 0.35),
                                                        ("fid_untrained", 9.0))}
    measured.update(heep_source="proxy", mean_s_gen=0.35, generated_per_emotion=4)
    result = tables.table3(None, measured)
    assert result["columns"][5] == "HEEP (proxy)"
    assert result["rows"][0] == ["Awe", 2.0, 1.5, 0.1, 0.5, 0.2, 0.35, 9.0, None, None]
    assert result["rows"][1][1:] == [None] * 9  # Excitement: not scored, so absent
    assert result["rows"][10] == ["mean (this run)", 2.0, 1.5, 0.1, 0.5, 0.2, 0.35, 9.0, None, None]
    assert "absent, not estimated" not in result["note"]


def test_strict_json_has_no_nan():
    value = {"a": [1.0, float("nan")], "b": (float("inf"), "x")}
    assert json.dumps(strict_json(value), allow_nan=False) == '{"a": [1.0, null], "b": [null, "x"]}'


def test_learning_checks_compare_against_their_yardsticks():
    rows = [{"setting": "no adaptation", "split": "Test", "mean_ccc": 0.30},
            {"setting": "adapted (full, K=5, lr=0.1)", "split": "Test", "mean_ccc": 0.33}]
    checks = learning_checks({"ccc": 0.35, "uar": 0.24, "mae": 3.0}, {"uar": 0.25, "mae": 4.0, "ccc": 0.0}, rows,
                             {"trained": {"Awe": 4.0}, "untrained": {"Awe": 10.0}}, None)
    assert [c["passed"] for c in checks] == [True, False, True, False, True]


def grid_point(mode: str, steps: int, rate: float, strength: float | None, score: float) -> dict:
    return {"mode": mode, "steps": steps, "learning_rate": rate, "ridge_strength": strength, "val_mean_ccc": score}


def test_adaptation_heat_map_gives_each_setting_its_own_cell_on_its_modes_axes(tmp_path):
    grid = [grid_point("full", k, lr, None, 0.1 + 0.01 * i) for i, (k, lr) in
            enumerate((k, lr) for k in (20, 5) for lr in (1e-2, 1e-3))]
    grid += [grid_point("ridge", 0, 0.0, strength, score)
             for strength, score in ((1.0, 0.31), (0.01, 0.32), (0.1, 0.33))]
    grid.append(grid_point("bias_head", 5, 1e-2, None, 0.2))
    panels, xlabels, ylabels = adaptation_panels(grid)
    assert list(panels) == ["full", "ridge", "bias_head"]

    values, rows, columns = panels["full"]
    assert (rows, columns) == (["K=5", "K=20"], ["lr=0.001", "lr=0.01"])
    np.testing.assert_allclose(values, [[0.13, 0.12], [0.11, 0.10]])
    values, rows, columns = panels["ridge"]  # K = 0 and lr = 0 at every strength: one row, a column per strength
    assert (rows, columns) == (["closed form"], ["0.01", "0.1", "1"])
    np.testing.assert_allclose(values, [[0.32, 0.33, 0.31]])
    assert (xlabels["ridge"], ylabels["ridge"]) == ("ridge strength", "")
    assert (xlabels["full"], ylabels["full"]) == ("learning rate", "adaptation steps K")
    cells = np.concatenate([v.ravel() for v, _, _ in panels.values()])
    assert sorted(cells[np.isfinite(cells)]) == sorted(g["val_mean_ccc"] for g in grid)  # one cell per setting

    path = heat_maps(tmp_path / "grid.png", panels, xlabels, ylabels)
    assert path.read_bytes().startswith(b"\x89PNG")
    # Settings that cannot be told apart on the mode's axes are refused, never drawn over each other.
    with pytest.raises(ValueError, match="'ridge': several settings fall in one cell"):
        adaptation_panels([grid_point("ridge", 0, 0.0, None, 0.3), grid_point("ridge", 0, 0.0, None, 0.4)])
