"""Frozen settings dataclasses: each track converts its config into one, once, at the top.

A config file (`experiments/...`, `get_config(arg)`) returns an `ml_collections.ConfigDict`, which the
command line can override field by field (`--set train.epochs=5`). A track's `settings(config)` turns
it into the track's frozen dataclass with `from_config`, and nothing below that call sees a ConfigDict.
The dataclass's defaults are the track's defaults: `default_config` of a track is `as_config(Settings())`.

`from_config` follows the dataclass's fields: nested dataclasses from nested configs, lists to tuples,
a missing field takes its default, and an unknown field is a `DataError` listing the known ones (a
typo in a config never passes silently). Range checks belong in the dataclass's `__post_init__`, so
they run wherever settings are built. `as_dict` gives the plain JSON form the run layer records.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import ml_collections

from exvo_jax.data.errors import DataError

T = TypeVar("T")


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _plain(value: Any) -> Any:
    if isinstance(value, ml_collections.ConfigDict):
        return value.to_dict()
    return value


def from_config(cls: type[T], config: Mapping | ml_collections.ConfigDict, where: str = "config") -> T:
    """`cls(**fields)` from `config` (a ConfigDict or a mapping); see the module docstring."""
    values = dict(_plain(config).items())
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"{where}.{unknown[0]}: unknown setting (known here: {', '.join(sorted(fields))})")
    types = _field_types(cls)
    kwargs = {}
    for name, value in values.items():
        kind = types[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, Mapping):
                raise DataError(f"{where}.{name}: expected a group of settings, got {value!r}")
            kwargs[name] = from_config(kind, value, f"{where}.{name}")
        else:
            kwargs[name] = _frozen(value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:  # range checks name their field in full (`adapt.modes ...`)
        raise DataError(f"{where.split('.')[0]}: {err}") from None


def _frozen(value: Any) -> Any:
    """Lists become tuples (hashable, as the dataclass's tuple defaults); mappings stay plain dicts."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def as_dict(settings: Any) -> dict:
    """The settings as plain JSON-able data (tuples as lists), e.g. for the run's `config.json`."""
    return _jsonable(dataclasses.asdict(settings))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def as_config(settings: Any) -> ml_collections.ConfigDict:
    """The settings as a ConfigDict (tuples kept), the form config files start from and override."""
    return ml_collections.ConfigDict(_tuples(dataclasses.asdict(settings)))


def _tuples(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def pick(cls: type[T], settings: Any, **computed: Any) -> T:
    """A program-level dataclass `cls` (static hyperparameters) from the settings fields of the same names, with
    the fields that are computed rather than set (e.g. decay steps from the data's size) given by keyword."""
    return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls) if f.name not in computed},
               **computed)


def check(condition: bool, message: str) -> None:
    """A range check of a settings dataclass: `ValueError(message)` unless `condition`."""
    if not condition:
        raise ValueError(message)


def finite(value: Any) -> bool:
    """A real number (not a bool), neither NaN nor infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(value: Any) -> bool:
    """An integer (not a bool) >= 1."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
