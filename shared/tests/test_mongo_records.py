"""Records as stored documents: what `to_document` writes and what `from_document` reads back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from shared.mongo import from_document, to_document


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


@dataclass(frozen=True)
class Thing:
    id: str
    colour: Colour
    day: date
    at: datetime
    tags: tuple[str, ...]
    colours: tuple[Colour, ...]
    where: Point
    scores: dict[str, float]
    owner: str | None
    until: date | None = None
    note: str = ""


AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
THING = Thing(
    id="t-1",
    colour=Colour.RED,
    day=date(2026, 2, 28),
    at=AT,
    tags=("a", "b"),
    colours=(Colour.BLUE, Colour.RED),
    where=Point(9.19, 45.46),
    scores={"x": 1.5},
    owner=None,
    until=date(2027, 1, 31),
    note="n",
)
STORED = {
    "_id": "t-1",
    "colour": "red",
    "day": "2026-02-28",
    "at": AT,
    "tags": ["a", "b"],
    "colours": ["blue", "red"],
    "where": {"lon": 9.19, "lat": 45.46},
    "scores": {"x": 1.5},
    "owner": None,
    "until": "2027-01-31",
    "note": "n",
}


def test_a_record_is_stored_with_enums_by_value_dates_as_text_and_its_key_as_id() -> None:
    assert to_document(THING) == STORED


def test_a_stored_document_reads_back_as_the_same_record() -> None:
    assert from_document(Thing, STORED) == THING


def test_another_field_can_be_the_key_or_none_at_all() -> None:
    point = to_document(Point(1.0, 2.0), key="lon")
    assert point == {"_id": 1.0, "lat": 2.0}
    assert from_document(Point, point, key="lon") == Point(1.0, 2.0)
    assert to_document(Point(1.0, 2.0), key=None) == {"lon": 1.0, "lat": 2.0}
    assert from_document(Point, {"_id": "ignored", "lon": 1.0, "lat": 2.0}, key=None) == Point(1.0, 2.0)


def test_a_document_written_before_a_field_existed_reads_with_its_default_or_none() -> None:
    old = {k: v for k, v in STORED.items() if k not in ("owner", "until", "note")} | {"gone": 1}
    thing = from_document(Thing, old)
    assert (thing.owner, thing.until, thing.note) == (None, None, "")
