"""The projection's wire contract: the events it reads (its own copies of the markets and shops
contracts) and the KPI updates it publishes.

Consumed payloads ignore fields they do not know and default the ones they do not need, so the
producers may add fields (evolution is add-only) without breaking the projections.
"""

from __future__ import annotations

from datetime import date as Day
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import to_jsonable_python

from shared.categories import Category
from shared.events import EventData


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdText = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, max_length=200)]


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


# ---------------------------------------------------------------- markets.events (consumed)


class _MarketEvent(EventData):
    """What every markets event read here carries (consumed models are never published: no subject)."""

    source = "/markets"
    market_id: IdText
    version: int = Field(ge=1)


class MarketRegistered(_MarketEvent):
    event_type = "markets.market.registered.v1"
    name: str | None = None
    nil: Any = None
    location: Location | None = None
    active: bool = True


class MarketUpdated(MarketRegistered):
    event_type = "markets.market.updated.v1"


class StallEvent(_MarketEvent):
    number: IdText
    at: datetime | None = None


class StallCreated(StallEvent):
    event_type = "markets.stall.created.v1"
    category: str | None = None
    status: str
    holder: str | None = None


class StallStatusChanged(StallEvent):
    event_type = "markets.stall.status_changed.v1"
    from_: str | None = Field(default=None, alias="from")
    to: str


class StallAssigned(StallEvent):
    event_type = "markets.stall.assigned.v1"
    holder: str | None = None
    category: str | None = None
    status: str


class StallReleased(StallEvent):
    event_type = "markets.stall.released.v1"
    status: str


class ConcessionEnded(StallEvent):
    """A concession revoked or expired: its stall is free (``status`` vacant) and has no holder."""

    status: str


class ConcessionRevoked(ConcessionEnded):
    event_type = "markets.concession.revoked.v1"


class ConcessionExpired(ConcessionEnded):
    event_type = "markets.concession.expired.v1"


class ConcessionTransferred(StallEvent):
    """A concession handed to another trader: the stall keeps its status under a new holder."""

    event_type = "markets.concession.transferred.v1"
    holder: str | None = None
    status: str


class SpuntaStall(BaseModel):
    """One stall handed out at the spunta (the trader who got it is not needed here)."""

    model_config = ConfigDict(extra="ignore")

    stall: IdText


class SpuntaAssigned(EventData):
    """A market day's spunta: the stalls handed out to the traders present that day.

    It carries no ``version``: the markets service assigns a market day once, and the day itself
    orders the spunte of a stall (see :mod:`districts.projection.changes`).
    """

    event_type = "markets.spunta.assigned.v1"
    source = "/markets"
    market_id: IdText
    date: Day
    assignments: list[SpuntaStall]


# ---------------------------------------------------------------- shops.events (consumed)


class _ShopEvent(EventData):
    source = "/shops"
    shop_id: IdText


class ShopRegistered(_ShopEvent):
    event_type = "shops.shop.registered.v1"
    kind: str
    name: str | None = None
    trade: str | None = None
    category: Category | None = None  # events published before categories existed have none
    nil: Any = None
    id_nil: int | None = None
    location: Location | None = None
    year_founded: int | None = None
    status: str
    status_changed_at: datetime | None = None
    version: int = Field(ge=1)


class ShopUpdated(ShopRegistered):
    event_type = "shops.shop.updated.v1"


class ShopStatusChanged(_ShopEvent):
    event_type = "shops.shop.status_changed.v1"
    kind: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str
    at: datetime | None = None
    version: int = Field(ge=1)


class HistoricRecognised(_ShopEvent):
    event_type = "shops.historic.recognised.v1"
    year_founded: int | None = None
    recognised_at: datetime | None = None
    version: int = Field(ge=1)


class ServiceRegistered(_ShopEvent):
    event_type = "shops.service.registered.v1"
    service_id: IdText
    service: str = Field(min_length=1, max_length=100, pattern=r"^[\w-]+$")
    weekly_minutes: int = Field(default=0, ge=0)
    evening_minutes: int = Field(default=0, ge=0)
    weekend_minutes: int = Field(default=0, ge=0)
    at: datetime | None = None


class ServiceUpdated(ServiceRegistered):
    """New hours of a service on offer: its weekly totals as of the offer's ``version`` (2 and up)."""

    event_type = "shops.service.updated.v1"
    version: int = Field(ge=2)


class ServiceRemoved(_ShopEvent):
    event_type = "shops.service.removed.v1"
    service_id: IdText
    service: str | None = None
    at: datetime | None = None


def _followed(*bases: type[EventData]) -> list[type[EventData]]:
    """Every model below ``bases`` that names an event type of its own."""
    found: list[type[EventData]] = []
    for base in bases:
        for model in base.__subclasses__():
            found += [model] if "event_type" in vars(model) else []
            found += _followed(model)
    return found


CONSUMED: dict[str, type[EventData]] = {
    model.event_type: model for model in [*_followed(_MarketEvent, _ShopEvent), SpuntaAssigned]
}


# ---------------------------------------------------------------- districts.events (published)


def kpis_payload(values: dict[str, Any]) -> dict[str, Any]:
    """KPI values as JSON (times in ISO-8601), as ``KpisUpdated.kpis`` carries them."""
    payload: dict[str, Any] = to_jsonable_python(values)
    return payload


class KpisUpdated(EventData):
    event_type = "districts.kpis.updated.v1"
    source = "/districts"
    district: str
    kpis: dict[str, Any]
    at: datetime

    def subject(self) -> str:
        return self.district
