"""The frame every open-data importer plugs into, and the import job: pure rules.

An importer recognises a file (by its name and header or content), reads its rows and turns each
row into calls of the platform's public API, saying what happened to the row (created, updated,
unchanged). A bad row raises :class:`RowError` or is refused by the platform; it is reported with its
line number and the import goes on. Importers talk to the platform only through its public API, so
every imported record emits its events like any other write, and re-importing updates rather than
duplicates (each importer upserts by the official identifier).
"""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

from shared.i18n import DEFAULT_LANGUAGE, Said

# the first rejected rows kept with a job (by line); the count covers them all
REJECTED_KEPT = 500
TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
NO_COORDINATES = Said(
    "mancano le coordinate: long_x_4326/lat_y_4326 e location sono vuote",
    "no coordinates: long_x_4326/lat_y_4326 and location are empty",
)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class RowError(Exception):
    """The row cannot be imported; ``reason`` says why, for the report, in Italian and English (a
    plain ``str`` is reported as it is in both)."""

    def __init__(self, reason: str | Said) -> None:
        super().__init__(str(reason))
        self.reason = reason if isinstance(reason, Said) else Said(reason, reason)

    def in_(self, language: str) -> str:
        return self.reason.in_(language)


@dataclass(frozen=True)
class Source:
    """An uploaded file: its name as the client gave it and its bytes."""

    name: str
    data: bytes

    @property
    def suffix(self) -> str:
        dot = self.name.rfind(".")
        return self.name[dot:].lower() if dot > 0 else ""

    @property
    def size(self) -> int:
        return len(self.data)

    @cached_property
    def text(self) -> str:
        return decode_text(self.data)


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
            raise RowError(Said(f"colonna {column!r}: è vuota", f"column {column!r} is empty"))
        return value

    def number(self, column: str, *, required: bool = True) -> float | None:
        value = self.text(column).replace(",", ".")
        if not value:
            if required:
                raise RowError(Said(f"colonna {column!r}: è vuota", f"column {column!r} is empty"))
            return None
        try:
            return float(value)
        except ValueError as exc:
            raise RowError(
                Said(f"colonna {column!r}: non è un numero: {value!r}", f"column {column!r} is not a number: {value!r}")
            ) from exc

    def integer(self, column: str, *, required: bool = True) -> int | None:
        value = self.number(column, required=required)
        if value is None:
            return None
        if not value.is_integer():
            shown = self.text(column)
            raise RowError(
                Said(
                    f"colonna {column!r}: non è un numero intero: {shown!r}",
                    f"column {column!r} is not a whole number: {shown!r}",
                )
            )
        return int(value)

    def lon_lat(self, lon_column: str = "long_x_4326", lat_column: str = "lat_y_4326") -> tuple[float, float]:
        """Coordinates from the two columns, else from the ``location`` string ``(lat, lon)``."""
        lon, lat = self.number(lon_column, required=False), self.number(lat_column, required=False)
        if lon is None or lat is None:
            location = self.text("location").strip("() ")
            parts = [p.strip() for p in location.split(",")] if location else []
            if len(parts) != 2:
                raise RowError(NO_COORDINATES)
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except ValueError as exc:
                shown = self.text("location")
                raise RowError(
                    Said(
                        f"colonna 'location': non è nella forma '(lat, lon)': {shown!r}",
                        f"location is not '(lat, lon)': {shown!r}",
                    )
                ) from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RowError(
                Said(
                    f"coordinate fuori dai limiti: lon={lon}, lat={lat}",
                    f"coordinates out of range: lon={lon}, lat={lat}",
                )
            )
        return lon, lat


class Api(Protocol):
    """The platform's public API as an importer calls it (paths under ``/api/v1``).

    Each call answers the response's JSON with its status under ``_status``; an answer that is not
    2xx nor listed in ``ok`` raises (the job reports the row as refused by the platform, with the
    service's problem).
    """

    async def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> dict[str, Any]: ...

    async def get(self, path: str, **kwargs: Any) -> dict[str, Any]: ...

    async def post(self, path: str, **kwargs: Any) -> dict[str, Any]: ...

    async def put(self, path: str, **kwargs: Any) -> dict[str, Any]: ...


class Importer(Protocol):
    name: str
    description: Said  # what it reads, shown with its jobs
    priority: int

    def matches(self, source: Source) -> bool:
        """True if this importer reads this file (by name, header or content)."""
        ...

    def rows(self, source: Source) -> Iterator[Row]: ...

    async def load(self, api: Api, row: Row) -> Outcome: ...


def decode_text(raw: bytes) -> str:
    """UTF-8 with or without BOM; Latin-1 as the portal's older files use it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_header(source: Source) -> list[str]:
    first = decode_text(source.data.split(b"\n", 1)[0])
    return [c.strip().strip('"').lower() for c in first.replace(";", ",").replace("\t", ",").split(",")]


def read_table(source: Source) -> Iterator[Row]:
    """Rows of a delimited file (``;``, ``,`` or tab, sniffed), header names lower-cased.

    ``line`` is the physical line number in the file (the header is line 1).
    """
    text = source.text
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


def has_columns(source: Source, *columns: str) -> bool:
    if source.suffix not in TEXT_SUFFIXES:
        return False
    header = set(read_header(source))
    return all(c in header for c in columns)


def recognise(importers: list[Importer], source: Source) -> Importer | None:
    """The first importer, in priority order, that reads this file."""
    for importer in sorted(importers, key=lambda i: (i.priority, i.name)):
        if importer.matches(source):
            return importer
    return None


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


UNFINISHED = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str


@dataclass(frozen=True)
class ImportJob:
    """One uploaded file being imported (or imported): what it is, how far it got, what was refused."""

    id: str
    file: str
    size: int
    importer: str
    description: str
    state: JobState
    actor: str
    submitted_at: datetime
    heartbeat_at: datetime
    rows_total: int | None = None
    rows_done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_count: int = 0
    rejected: tuple[RejectedRow, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    language: str = DEFAULT_LANGUAGE  # the uploader's (``it`` or ``en``): the job's texts are in it

    def stale(self, beaten_before: datetime) -> bool:
        """Unfinished, but its last heartbeat is older than ``beaten_before``: its gateway stopped."""
        return self.state in UNFINISHED and self.heartbeat_at < beaten_before

    def summary(self) -> dict[str, object]:
        """What the audit log records of a finished import."""
        return {
            "file": self.file,
            "importer": self.importer,
            "rows_total": self.rows_total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected_count,
        }


@dataclass
class Tally:
    """A running import's counts; ``rejected`` keeps the first :data:`REJECTED_KEPT` lines, in order,
    each with its reason in ``language`` (the job's)."""

    rows_total: int
    language: str = DEFAULT_LANGUAGE
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_count: int = 0
    changes: int = 0  # bumped by every row: the store is written only when it moved

    @property
    def rows_done(self) -> int:
        return sum(self.outcomes.values()) + self.rejected_count

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1
        self.changes += 1

    def reject(self, line: int, reason: str | Said) -> None:
        self.rejected_count += 1
        self.changes += 1
        if len(self.rejected) < REJECTED_KEPT or line < self.rejected[-1].line:
            text = reason.in_(self.language) if isinstance(reason, Said) else reason
            bisect.insort(self.rejected, RejectedRow(line, text[:1000]), key=lambda r: r.line)
            del self.rejected[REJECTED_KEPT:]

    def progress(self) -> dict[str, Any]:
        """The job's fields this tally sets."""
        return {
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "created": self.outcomes[Outcome.CREATED],
            "updated": self.outcomes[Outcome.UPDATED],
            "unchanged": self.outcomes[Outcome.UNCHANGED],
            "rejected_count": self.rejected_count,
            "rejected": tuple(self.rejected),
        }
