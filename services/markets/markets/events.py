"""The events the markets service publishes on ``markets.events`` (catalogue: docs/events.md)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from markets.domain import StallCategory, StallStatus, stall_key
from shared.events import EventData

SOURCE = "/markets"
TOPIC = "markets.events"


class LocationData(BaseModel):
    lon: float
    lat: float


class MarketRegistered(EventData):
    event_type = "markets.market.registered.v1"
    source = SOURCE

    market_id: str
    name: str
    address: str
    municipio: int
    nil: str | None
    location: LocationData
    active: bool
    version: int

    def subject(self) -> str:
        return self.market_id


class MarketUpdated(MarketRegistered):
    event_type = "markets.market.updated.v1"


class StallEvent(EventData):
    source = SOURCE

    market_id: str
    number: str

    def subject(self) -> str:
        return stall_key(self.market_id, self.number)


class StallCreated(StallEvent):
    event_type = "markets.stall.created.v1"

    area_m2: float
    category: StallCategory
    status: StallStatus
    holder: str | None
    version: int
    at: datetime


class StallStatusChanged(StallEvent):
    event_type = "markets.stall.status_changed.v1"
    model_config = ConfigDict(extra="ignore", serialize_by_alias=True)

    from_: StallStatus = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: StallStatus
    note: str
    actor: str
    version: int
    at: datetime


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


class AwardedStall(BaseModel):
    number: str
    applicant: str
    score: float


class SkippedApplication(BaseModel):
    applicant: str
    reason: str


class CallAwarded(EventData):
    event_type = "markets.call.awarded.v1"
    source = SOURCE

    call_id: str
    market_id: str
    awarded: list[AwardedStall]
    skipped: list[SkippedApplication]
    actor: str
    at: datetime

    def subject(self) -> str:
        return self.call_id


PUBLISHED: tuple[type[EventData], ...] = (
    MarketRegistered,
    MarketUpdated,
    StallCreated,
    StallStatusChanged,
    StallAssigned,
    StallReleased,
    CallAwarded,
)
