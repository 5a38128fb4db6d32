"""Experiment configs: `path/to/config.py[:arg]` files whose `get_config(arg)` returns a ConfigDict.

A missing file, a file without `get_config` and an override of an unknown key are `DataError`s, so the
command line reports them as one line naming the file.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import ml_collections

from exvo_jax.data.errors import DataError

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
        raise DataError(f"{file}: config file not found")
    module_spec = importlib.util.spec_from_file_location(f"exvo_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise DataError(f"{path}: defines no get_config(arg)")
    return module.get_config(arg or None)


def apply_override(config: ml_collections.ConfigDict, assignment: str) -> None:
    """Applies a `--set KEY=VALUE` (KEY may be dotted, e.g. `train.epochs=5`) to an existing key.

    VALUE is read as a Python literal where it is one (`5`, `(1, 2)`, `True`), else as a string.
    """
    key, sep, text = assignment.partition("=")
    *parents, leaf = key.split(".")
    node = config
    for name in parents:
        node = node[name] if isinstance(node, ml_collections.ConfigDict) and name in node else None
        if node is None:
            break
    if not sep or not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
        known = f" (known here: {', '.join(sorted(node))})" if isinstance(node, ml_collections.ConfigDict) else ""
        raise DataError(f"--set {assignment!r}: expected KEY=VALUE with a known (dotted) key{known}")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    node[leaf] = value
