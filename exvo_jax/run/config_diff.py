"""Comparing a run's config with the one its workdir was started with, field by dotted field.

Configs are compared as JSON (tuples and lists alike) and flattened to dotted keys, so a refusal can
name exactly what changed: `train.learning_rate: 0.001 -> 0.003`. Fields that hold paths (their name
ends in `_dir`, `_path` or `_file`) are stored and compared resolved, so `data/` and `/abs/data` are the
same field value when they are the same folder; an empty path ("unset") stays empty.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exvo_jax.settings import as_dict

PATH_SUFFIXES = ("_dir", "_path", "_file")
ABSENT = "(absent)"


def plain_config(config: Any) -> dict:
    """The config (a settings dataclass, an `ml_collections.ConfigDict` or a mapping) as plain JSON data, path
    fields resolved."""
    if dataclasses.is_dataclass(config):
        config = as_dict(config)
    data = json.loads(config.to_json() if hasattr(config, "to_json") else json.dumps(config))
    return _resolve_paths(data)


def flatten(config: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"train": {"epochs": 5}} -> {"train.epochs": 5}; lists and other values are leaves."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def differences(old: Mapping, new: Mapping) -> dict[str, tuple[Any, Any]]:
    """{dotted key: (old value, new value)} for every field that differs (ABSENT where one side lacks it)."""
    before, after = flatten(_resolve_paths(old)), flatten(_resolve_paths(new))
    return {key: (before.get(key, ABSENT), after.get(key, ABSENT))
            for key in sorted(before.keys() | after.keys()) if before.get(key, ABSENT) != after.get(key, ABSENT)}


def describe(changes: Mapping[str, tuple[Any, Any]]) -> str:
    """`a.b: 1 -> 2, c: 'x' -> (absent)`."""
    return ", ".join(f"{key}: {_show(was)} -> {_show(now)}" for key, (was, now) in changes.items())


def _show(value: Any) -> str:
    return value if value == ABSENT else json.dumps(value)


def _resolve_paths(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _resolve_paths(v, str(k)) for k, v in value.items()}
    if isinstance(value, str) and value and key.endswith(PATH_SUFFIXES):
        return str(Path(value).expanduser().resolve())
    return value
