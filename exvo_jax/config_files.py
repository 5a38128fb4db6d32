"""Experiment configs: `path/to/config.py[:arg]` files whose `get_config(arg)` returns a ConfigDict."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import ml_collections

REPO_ROOT = Path(__file__).resolve().parents[1]


def resolve(path: str | Path) -> Path:
    """A config path as given, else relative to the repository root (for installed console scripts)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    return REPO_ROOT / path


def load_config(spec: str) -> ml_collections.ConfigDict:
    """Loads `file.py` or `file.py:arg` and returns `get_config(arg)` (arg None when absent)."""
    file, _, arg = spec.partition(":")
    path = resolve(file)
    if not path.exists():
        raise FileNotFoundError(f"{file}: config file not found")
    module_spec = importlib.util.spec_from_file_location(f"exvo_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"{path}: defines no get_config(arg)")
    return module.get_config(arg or None)
