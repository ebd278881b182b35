"""Response bodies of the nearest-point search (the public names keep saying "service")."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shops.closures.domain import Closure
from shops.nearest.domain import Nearby
from shops.register.domain import ShopKind
from shops.register.schemas import Coordinates


class HoursToday(BaseModel):
    opens: str
    closes: str


class ClosureToday(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    id: str
    from_: date = Field(alias="from")
    to: date
    reason: str
    hours: list[dict[str, str]] = Field(description="exceptional hours that day ({opens, closes}); empty: closed")


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
    closure: ClosureToday | None = Field(description="the shop's closure covering the day of open_at, if any")

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
            closure=_closure(found.closure),
        )


def _closure(closure: Closure | None) -> ClosureToday | None:
    if closure is None:
        return None
    return ClosureToday.model_validate(
        {
            "id": closure.id,
            "from": closure.first,
            "to": closure.last,
            "reason": closure.reason,
            "hours": [{"opens": o, "closes": c} for o, c in closure.hours_text()],
        }
    )


class NearestPage(BaseModel):
    items: list[NearbyPublic]
    service: str
    open_at: datetime = Field(description="the Milan local time the opening hours were checked at")
    limit: int
