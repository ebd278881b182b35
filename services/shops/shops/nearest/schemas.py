"""Response bodies of the nearest-point search (the public names keep saying "service")."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shops.nearest.domain import Nearby
from shops.register.domain import ShopKind
from shops.register.schemas import Coordinates


class HoursToday(BaseModel):
    opens: str
    closes: str


class NearbyPublic(BaseModel):
    shop_id: str
    service_id: str
    name: str
    kind: ShopKind
    address: str
    location: Coordinates
    distance_m: float
    open_now: bool
    hours_today: list[HoursToday]

    @classmethod
    def of(cls, found: Nearby) -> NearbyPublic:
        shop = found.point.shop
        return cls(
            shop_id=shop.shop_id,
            service_id=found.point.offer_id,
            name=shop.name,
            kind=shop.kind,
            address=shop.address,
            location=Coordinates(lon=shop.lon, lat=shop.lat),
            distance_m=round(found.distance_m, 1),
            open_now=found.open_now,
            hours_today=[HoursToday(opens=o, closes=c) for o, c in found.hours_today],
        )


class NearestPage(BaseModel):
    items: list[NearbyPublic]
    service: str
    open_at: datetime = Field(description="the Milan local time the opening hours were checked at")
    limit: int
