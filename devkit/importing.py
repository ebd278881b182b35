"""The frame every open-data importer plugs into: reading official files, rows, outcomes.

An importer recognises its files, turns each row into API calls and says what happened to the row
(created, updated, unchanged). A bad row raises :class:`RowError`; it is reported with its line
number and the import goes on. Importers talk to the platform only through its public API, so
every imported record emits its events like any other write, and re-importing updates rather than
duplicates (each importer upserts by the official identifier).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from devkit.client import ApiClient


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class RowError(Exception):
    """The row cannot be imported; the message says why, for the report."""


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any]

    def text(self, column: str) -> str:
        value = self.data.get(column)
        return "" if value is None else str(value).strip()

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise RowError(f"column {column!r} is empty")
        return value

    def number(self, column: str, *, required: bool = True) -> float | None:
        value = self.text(column).replace(",", ".")
        if not value:
            if required:
                raise RowError(f"column {column!r} is empty")
            return None
        try:
            return float(value)
        except ValueError as exc:
            raise RowError(f"column {column!r} is not a number: {value!r}") from exc

    def integer(self, column: str, *, required: bool = True) -> int | None:
        value = self.number(column, required=required)
        if value is None:
            return None
        if not value.is_integer():
            raise RowError(f"column {column!r} is not a whole number: {self.text(column)!r}")
        return int(value)

    def lon_lat(self, lon_column: str = "long_x_4326", lat_column: str = "lat_y_4326") -> tuple[float, float]:
        """Coordinates from the two columns, else from the ``location`` string ``(lat, lon)``."""
        lon, lat = self.number(lon_column, required=False), self.number(lat_column, required=False)
        if lon is None or lat is None:
            location = self.text("location").strip("() ")
            parts = [p.strip() for p in location.split(",")] if location else []
            if len(parts) != 2:
                raise RowError("no coordinates: long_x_4326/lat_y_4326 and location are empty")
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except ValueError as exc:
                raise RowError(f"location is not '(lat, lon)': {self.text('location')!r}") from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RowError(f"coordinates out of range: lon={lon}, lat={lat}")
        return lon, lat


@dataclass
class FileReport:
    path: Path
    importer: str
    rows: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.outcomes[Outcome.CREATED] + self.outcomes[Outcome.UPDATED] + self.outcomes[Outcome.UNCHANGED]


class Importer(Protocol):
    name: str
    description: str
    priority: int

    def matches(self, path: Path) -> bool:
        """True if this importer reads this file (by name or by its header)."""
        ...

    def rows(self, path: Path) -> Iterator[Row]: ...

    async def load(self, api: ApiClient, row: Row) -> Outcome: ...


def decode_text(raw: bytes) -> str:
    """UTF-8 with or without BOM; Latin-1 as the portal's older files use it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = decode_text(handle.readline())
    return [c.strip().strip('"').lower() for c in first.replace(";", ",").replace("\t", ",").split(",")]


def read_table(path: Path) -> Iterator[Row]:
    """Rows of a delimited file (``;``, ``,`` or tab, sniffed), header names lower-cased.

    ``line`` is the physical line number in the file (the header is line 1).
    """
    text = decode_text(path.read_bytes())
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] | None = None
    for record in reader:
        if header is None:
            header = [h.strip().lower() for h in record]
            continue
        if not any(cell.strip() for cell in record):
            continue
        data = {name: (record[i] if i < len(record) else "") for i, name in enumerate(header)}
        if len(record) > len(header):
            data["__extra__"] = ";".join(record[len(header) :])
        yield Row(reader.line_num, data)


def has_columns(path: Path, *columns: str) -> bool:
    if path.suffix.lower() not in {".csv", ".txt", ".tsv"}:
        return False
    try:
        header = set(read_header(path))
    except OSError:
        return False
    return all(c in header for c in columns)
