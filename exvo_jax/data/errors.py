"""Data errors that name the file or row and the problem, a collector for `check` reports, and text
files read with such errors (a non-UTF-8 byte names its row, not only its byte offset)."""

from __future__ import annotations

import dataclasses
from pathlib import Path


class DataError(ValueError):
    """Bad input: the message names the file (and row, where there is one) and the problem."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem found in a corpus: where it is and what is wrong."""

    where: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def location(path: str | Path, row: int | None = None) -> str:
    """`path` or `path:row N` (N counts data rows from 1, the header being row 0)."""
    return f"{path}" if row is None else f"{path}: row {row}"


class Problems:
    """Raises a `DataError` at the first error, or collects every problem when `collect=True`."""

    def __init__(self, collect: bool = False):
        self.collect = collect
        self.items: list[Problem] = []

    def add(self, where: str, message: str, severity: str = "error") -> None:
        problem = Problem(where, message, severity)
        if severity == "error" and not self.collect:
            raise DataError(str(problem))
        self.items.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]


def read_text(path: Path) -> str:
    """A text file's contents (UTF-8, optional BOM); `DataError` naming the file and row of a non-UTF-8 byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        row = data.count(b"\n", 0, err.start)  # the header line is row 0
        raise DataError(f"{location(path, row)}: byte 0x{data[err.start]:02x} is not UTF-8 text "
                        "(save the file as UTF-8)") from None
