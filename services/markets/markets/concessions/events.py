"""The wire contract of assignments on ``markets.events``: a stall gets a holder, a stall is freed."""

from __future__ import annotations

from datetime import date, datetime

from markets.stalls.events import StallCategory, StallEvent, StallStatus
from shared.events import EventData


class StallAssigned(StallEvent):
    event_type = "markets.stall.assigned.v1"

    holder: str
    category: StallCategory
    start: date
    end: date
    status: StallStatus
    actor: str
    version: int
    at: datetime


class StallReleased(StallEvent):
    event_type = "markets.stall.released.v1"

    previous_holder: str
    status: StallStatus
    actor: str
    version: int
    at: datetime


PUBLISHED: tuple[type[EventData], ...] = (StallAssigned, StallReleased)
