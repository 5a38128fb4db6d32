"""The tracks' public surface holds: the command line, the main job and the report use only `__all__` names.

`exvo_jax.tracks` states the rule; this module reads the imports (and the attributes taken from imported
track packages) of every module in `exvo_jax/commands`, `exvo_jax/demo` and `exvo_jax/report`, so a new
reach into a track's internals fails here with the file and line.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import exvo_jax

PACKAGE = Path(exvo_jax.__file__).parent
TRACKS = ("multitask", "fewshot", "generate")
ABOVE = ("commands", "demo", "report")
MOST_NAMES = 15  # names the main job and the report together take from the tracks


def surface(track: str) -> set[str]:
    return set(importlib.import_module(f"exvo_jax.tracks.{track}").__all__)


def uses(folder: str) -> tuple[list[str], set[tuple[str, str]]]:
    """(violations as `file:line: text`, the (track, name) pairs used) of every module under `folder`."""
    violations, used = [], set()
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        aliases: dict[str, str] = {}  # local name -> track
        where = f"{path.relative_to(PACKAGE.parent)}"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("exvo_jax."):
                parts = node.module.split(".")
                if parts[1] == "recognition":
                    violations.append(f"{where}:{node.lineno}: imports {node.module} (internal to the tracks)")
                if parts[1] != "tracks":
                    continue
                if len(parts) == 2:  # from exvo_jax.tracks import multitask
                    for alias in node.names:
                        aliases[alias.asname or alias.name] = alias.name
                elif len(parts) == 3 and parts[2] in TRACKS:
                    for alias in node.names:
                        used.add((parts[2], alias.name))
                        if alias.name not in surface(parts[2]):
                            violations.append(f"{where}:{node.lineno}: {alias.name} is not in "
                                              f"exvo_jax.tracks.{parts[2]}.__all__")
                else:
                    violations.append(f"{where}:{node.lineno}: imports {node.module} (a track's internal module)")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(("exvo_jax.tracks.", "exvo_jax.recognition")):
                        violations.append(f"{where}:{node.lineno}: imports {alias.name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                track = aliases[node.value.id]
                used.add((track, node.attr))
                if node.attr not in surface(track):
                    violations.append(f"{where}:{node.lineno}: {track}.{node.attr} is not in "
                                      f"exvo_jax.tracks.{track}.__all__")
    return violations, used


@pytest.mark.parametrize("folder", ABOVE)
def test_modules_above_the_tracks_use_only_their_public_names(folder):
    violations, _ = uses(folder)
    assert not violations, "\n".join(violations)


def test_the_main_job_and_the_report_take_few_names_from_the_tracks():
    used = uses("demo")[1] | uses("report")[1]
    assert len(used) <= MOST_NAMES, sorted(used)


def test_every_track_has_the_common_surface():
    common = {"settings", "train", "predict", "evaluate", "report_data"}
    for track in TRACKS:
        assert common <= surface(track), track
        module = importlib.import_module(f"exvo_jax.tracks.{track}")
        assert all(hasattr(module, name) for name in module.__all__), track


def test_the_checker_sees_a_reach_into_internals(tmp_path, monkeypatch):
    bad = PACKAGE / "demo" / "_surface_probe.py"
    bad.write_text("from exvo_jax.tracks.fewshot.adapt import personalise\nfrom exvo_jax.tracks import multitask\n"
                   "multitask.seeds\n")
    try:
        violations, _ = uses("demo")
    finally:
        bad.unlink()
    assert any("fewshot.adapt" in v for v in violations)
    assert any("multitask.seeds" in v for v in violations)
