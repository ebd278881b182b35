"""The register's events on ``shops.events`` (see docs/events.md); subject = shop id.

The wire contract, kept apart from the domain: a rename in ``domain.py`` never changes a payload.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum, unique

from pydantic import BaseModel, ConfigDict, Field

from shared.events import EventData

SOURCE = "/shops"


@unique
class ShopKind(StrEnum):
    """``kind`` as published."""

    HISTORIC = "historic"
    KIOSK = "kiosk"
    SHOP = "shop"


@unique
class ShopStatus(StrEnum):
    """``status``, ``from`` and ``to`` as published."""

    ACTIVE = "active"
    CLOSED = "closed"


class Location(BaseModel):
    """WGS84 degrees."""

    lon: float = Field(description="degrees east")
    lat: float = Field(description="degrees north")


class ShopEvent(EventData):
    """Every event of the shops service is about one shop and keyed by its id."""

    shop_id: str
    source = SOURCE

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
    category: str
    status: ShopStatus
    status_changed_at: datetime | None
    version: int


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


PUBLISHED: tuple[type[ShopEvent], ...] = (ShopRegistered, ShopUpdated, ShopStatusChanged, HistoricRecognised)
