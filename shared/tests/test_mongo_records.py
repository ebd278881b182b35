"""Records as stored documents: what `to_document` writes and what `from_document` reads back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from shared.mongo import from_document, to_document
from shared.places import Location, OpeningInterval
from shared.roles import Role


@dataclass(frozen=True)
class Thing:
    id: str
    role: Role
    day: date
    at: datetime
    roles: tuple[Role, ...]
    where: Location
    hours: tuple[OpeningInterval, ...]
    scores: dict[str, float]
    owner: str | None
    until: date | None = None
    note: str = ""


AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
THING = Thing(
    id="t-1",
    role=Role.TRADER,
    day=date(2026, 2, 28),
    at=AT,
    roles=(Role.SHOPKEEPER, Role.TRADER),
    where=Location(9.19, 45.46),
    hours=(OpeningInterval(0, "08:00", "13:00"),),
    scores={"x": 1.5},
    owner=None,
    until=date(2027, 1, 31),
    note="n",
)
STORED = {
    "_id": "t-1",
    "role": "trader",
    "day": "2026-02-28",
    "at": AT,
    "roles": ["shopkeeper", "trader"],
    "where": {"lon": 9.19, "lat": 45.46},
    "hours": [{"day": 0, "opens": "08:00", "closes": "13:00"}],
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
    point = to_document(Location(1.0, 2.0), key="lon")
    assert point == {"_id": 1.0, "lat": 2.0}
    assert from_document(Location, point, key="lon") == Location(1.0, 2.0)
    assert to_document(Location(1.0, 2.0), key=None) == {"lon": 1.0, "lat": 2.0}
    assert from_document(Location, {"_id": "ignored", "lon": 1.0, "lat": 2.0}, key=None) == Location(1.0, 2.0)


def test_a_document_written_before_a_field_existed_reads_with_its_default_or_none() -> None:
    old = {k: v for k, v in STORED.items() if k not in ("owner", "until", "note")} | {"gone": 1}
    thing = from_document(Thing, old)
    assert (thing.owner, thing.until, thing.note) == (None, None, "")


def test_fields_can_be_stored_under_other_names() -> None:
    names = {"opens": "from", "closes": "to"}
    stored = to_document(OpeningInterval(2, "09:00", "13:00"), key="day", stored_as=names)
    assert stored == {"_id": 2, "from": "09:00", "to": "13:00"}
    assert from_document(OpeningInterval, stored, key="day", stored_as=names) == OpeningInterval(2, "09:00", "13:00")
