"""The wire contract of assignments and concessions on ``markets.events``.

A stall gets a holder, a stall is freed, and a concession is renewed, transferred, revoked or
expires. Every one of them is a stall's event (subject ``<market id>/<stall number>``, the stall's
``version`` after the change), so a stall's events stay in order whatever changed it; a revoked or
expired concession frees its stall, and its event carries the stall's new ``status`` (vacant).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from markets.stalls.events import StallCategory, StallEvent, StallStatus
from shared.events import EventData


# A concession's state as events carry it (same values as the domain's, checked by a test).
class ConcessionState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RELEASED = "released"


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
    # added: the concession granted with the assignment, and the trader's account when there is one
    concession_id: str | None = None
    trader: str | None = None


class StallReleased(StallEvent):
    event_type = "markets.stall.released.v1"

    previous_holder: str
    status: StallStatus
    actor: str
    version: int
    at: datetime


class ConcessionEvent(StallEvent):
    """A change of a stall's concession: the concession as it is after the change."""

    concession_id: str
    holder: str
    trader: str | None
    start: date
    end: date
    state: ConcessionState
    status: StallStatus
    actor: str
    version: int
    at: datetime


class ConcessionRenewed(ConcessionEvent):
    event_type = "markets.concession.renewed.v1"

    previous_end: date


class ConcessionTransferred(ConcessionEvent):
    event_type = "markets.concession.transferred.v1"

    previous_holder: str
    previous_trader: str | None


class ConcessionRevoked(ConcessionEvent):
    event_type = "markets.concession.revoked.v1"

    reason: str


class ConcessionExpired(ConcessionEvent):
    event_type = "markets.concession.expired.v1"


PUBLISHED: tuple[type[EventData], ...] = (
    StallAssigned,
    StallReleased,
    ConcessionRenewed,
    ConcessionTransferred,
    ConcessionRevoked,
    ConcessionExpired,
)
