"""The wire contract of a market's social and cultural spaces on ``markets.events``.

Every event is the space's (subject ``<market id>/<space code>``), so the bookings of one space
stay in order.
"""

from __future__ import annotations

from datetime import datetime

from markets.stalls.events import SOURCE
from shared.events import EventData


class SpaceEvent(EventData):
    source = SOURCE

    market_id: str
    space: str

    def subject(self) -> str:
        return f"{self.market_id}/{self.space}"


class SpaceCreated(SpaceEvent):
    event_type = "markets.space.created.v1"

    name: str
    capacity: int
    actor: str
    at: datetime


class BookingEvent(SpaceEvent):
    booking_id: str
    title: str
    organiser: str
    starts_at: datetime
    ends_at: datetime
    public: bool
    expected_people: int | None = None
    actor: str
    at: datetime


class SpaceBooked(BookingEvent):
    event_type = "markets.space.booked.v1"


class BookingCancelled(BookingEvent):
    event_type = "markets.space.booking_cancelled.v1"


PUBLISHED: tuple[type[EventData], ...] = (SpaceCreated, SpaceBooked, BookingCancelled)
