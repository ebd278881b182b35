"""The wire contract of markets and stalls on ``markets.events`` (catalogue: docs/events.md).

These models are the contract other services read, so they are declared here on their own and
never built from domain types: renaming something in the domain cannot change a payload.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.events import EventData

SOURCE = "/markets"


# A stall's status and use as events carry them (same values as the domain's, checked by a test).
class StallStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    VACANT = "vacant"
    MAINTENANCE = "maintenance"


class StallCategory(StrEnum):
    FOOD = "food"
    NON_FOOD = "non_food"
    FOOD_SERVICE = "food_service"
    SERVICES = "services"
    SOCIAL_CULTURAL = "social_cultural"
    CRAFT = "craft"


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
    """An event about one stall; its subject is ``<market id>/<stall number>``."""

    source = SOURCE

    market_id: str
    number: str

    def subject(self) -> str:
        return f"{self.market_id}/{self.number}"


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


PUBLISHED: tuple[type[EventData], ...] = (MarketRegistered, MarketUpdated, StallCreated, StallStatusChanged)
