"""What the spaces routes accept and return (``XCreate`` / ``XPublic``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from markets.spaces.domain import Booking, Space
from markets.stalls.schemas import SLUG, Strict, Text
from shared.i18n import Said
from shared.web.public import Public

EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
OUTSIDE_CALENDAR = Said(
    f"deve cadere tra il {EARLIEST.year} e il {LATEST.year - 1}",
    f"must lie between {EARLIEST.year} and {LATEST.year - 1}",
)


def in_the_platforms_time(value: datetime) -> datetime:
    """Refuse a time at the calendar's edge (it could not be turned into UTC)."""
    if not EARLIEST <= value < LATEST:
        raise ValueError(OUTSIDE_CALENDAR)
    return value


SpaceCode = Annotated[str, Field(min_length=1, max_length=40, pattern=SLUG)]
SpaceCodePath = Annotated[str, Path(min_length=1, max_length=40, pattern=SLUG, examples=["piazza"])]
BookingIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=SLUG)]


class SpaceCreate(Strict):
    code: SpaceCode = Field(description="slug, unique in the market, e.g. piazza")
    name: Text
    capacity: int = Field(ge=1, le=100_000, description="people it holds")


class SpacePublic(Public[Space]):
    market_id: str
    code: str
    name: str
    capacity: int
    created_at: datetime


class BookingCreate(Strict):
    title: Text
    organiser: Text = Field(description="who runs it (an association, a school, a trader…)")
    starts_at: AwareDatetime = Field(description="ISO 8601 with its offset, e.g. 2027-05-04T18:00:00+02:00")
    ends_at: AwareDatetime = Field(description="after starts_at; the period is [starts_at, ends_at)")
    public: bool = Field(default=False, description="shown in the market's anonymous agenda")
    expected_people: int | None = Field(
        default=None, ge=1, le=100_000, description="how many people are expected: at most the space's capacity"
    )

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _in_the_platforms_time(cls, value: datetime) -> datetime:
        return in_the_platforms_time(value)


class BookingPublic(Public[Booking]):
    id: str
    market_id: str
    space: str
    title: str
    organiser: str
    starts_at: datetime
    ends_at: datetime
    public: bool
    booked_by: str
    created_at: datetime
    cancelled_at: datetime | None
    expected_people: int | None


class AgendaEntryPublic(BaseModel):
    """A public event in the market's agenda (who booked it is not shown)."""

    id: str
    space: str
    title: str
    organiser: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, booking: Booking) -> AgendaEntryPublic:
        return cls.model_validate(booking, from_attributes=True)
