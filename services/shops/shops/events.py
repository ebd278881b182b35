"""The events the shops service publishes on ``shops.events`` (see docs/events.md); subject = shop id."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from shared.events import EventData
from shops.domain import Location, Offer, OpeningInterval, Shop, ShopKind, ShopStatus

SOURCE = "/shops"


class ShopEvent(EventData):
    source = SOURCE
    shop_id: str

    def subject(self) -> str:
        return self.shop_id


class ShopRegistered(ShopEvent):
    """The full registry state of a shop. ``id_nil`` is an addition to the catalogue's fields."""

    event_type = "shops.shop.registered.v1"
    kind: ShopKind
    name: str
    trade: str
    address: str
    cap: str | None
    municipio: int | None
    nil: str | None
    id_nil: int | None = None
    location: Location
    year_founded: int | None
    status: ShopStatus
    status_changed_at: datetime | None
    version: int

    @classmethod
    def of(cls, shop: Shop) -> ShopRegistered:
        return cls.model_validate({"shop_id": shop.id, **shop.model_dump(include=set(cls.model_fields) - {"shop_id"})})


class ShopUpdated(ShopRegistered):
    event_type = "shops.shop.updated.v1"


class ShopStatusChanged(ShopEvent):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    event_type = "shops.shop.status_changed.v1"
    kind: ShopKind
    from_: ShopStatus = Field(alias="from")
    to: ShopStatus
    at: datetime
    actor: str
    version: int


class HistoricRecognised(ShopEvent):
    event_type = "shops.historic.recognised.v1"
    name: str
    year_founded: int
    recognised_at: datetime
    actor: str
    version: int


class ServiceRegistered(ShopEvent):
    """A service offered, with weekly totals of its hours (evening = after 19:00, weekend = Sat+Sun)."""

    event_type = "shops.service.registered.v1"
    service_id: str
    service: str
    hours: tuple[OpeningInterval, ...]
    weekly_minutes: int
    evening_minutes: int
    weekend_minutes: int
    actor: str
    at: datetime

    @classmethod
    def of(cls, offer: Offer) -> ServiceRegistered:
        weekly = offer.weekly()
        return cls(
            shop_id=offer.shop_id,
            service_id=offer.id,
            service=offer.service,
            hours=offer.hours,
            weekly_minutes=weekly.weekly_minutes,
            evening_minutes=weekly.evening_minutes,
            weekend_minutes=weekly.weekend_minutes,
            actor=offer.created_by,
            at=offer.created_at,
        )


class ServiceRemoved(ShopEvent):
    event_type = "shops.service.removed.v1"
    service_id: str
    service: str
    actor: str
    at: datetime


PUBLISHED: tuple[type[ShopEvent], ...] = (
    ShopRegistered,
    ShopUpdated,
    ShopStatusChanged,
    HistoricRecognised,
    ServiceRegistered,
    ServiceRemoved,
)
