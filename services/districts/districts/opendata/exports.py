"""The open-data downloads built from the projected entities: markets, service points, historic shops.

Pure: the city's projected contents become rows, CSV text or GeoJSON. Only what the projection
keeps and the public may know goes out: a market's name and place, its stalls counted by status
(never a stall's holder, never a spunta's trader), a service's type, place and weekly hours, a
historic shop's name, founding year, status and place. The projection keeps a service's weekly,
evening and weekend minutes, not its day-by-day hours, so those are what the service points carry.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from districts.overview.exports import blank, cell
from districts.projection.domain import (
    STALL_CLOSED,
    STALL_OPEN,
    STALL_VACANT,
    AreaContents,
    Entity,
    ShopKind,
    counted_status,
    market_day,
)

STALL_MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class Place:
    districts: tuple[str, ...]
    nil: int | None
    location: tuple[float, float] | None

    @classmethod
    def of(cls, entity: Entity) -> Place:
        return cls(entity.districts, entity.nil, entity.location)

    def cells(self) -> list[object]:
        """District codes separated by spaces, the NIL, longitude and latitude (blank when unknown)."""
        lon, lat = self.location if self.location else ("", "")
        return [" ".join(self.districts), blank(self.nil), lon, lat]

    def geometry(self) -> dict[str, Any] | None:
        return {"type": "Point", "coordinates": list(self.location)} if self.location else None


@dataclass(frozen=True)
class MarketRow:
    market_id: str
    name: str
    active: bool
    place: Place
    stalls_total: int
    stalls_open: int
    stalls_vacant: int
    stalls_closed: int
    stalls_maintenance: int

    @property
    def stall_occupancy(self) -> float | None:
        """The share of stalls that are not vacant, as the districts' KPIs count it."""
        if not self.stalls_total:
            return None
        return round((self.stalls_total - self.stalls_vacant) / self.stalls_total, 4)


@dataclass(frozen=True)
class ServicePoint:
    service: str
    business_kind: str
    place: Place
    weekly_minutes: int
    evening_minutes: int
    weekend_minutes: int


@dataclass(frozen=True)
class HistoricShop:
    shop_id: str
    name: str
    year_founded: int | None
    status: str
    place: Place


def market_rows(city: AreaContents, now: datetime) -> list[MarketRow]:
    """Every market with its stalls counted by status as today's KPIs count them (a spunta's stall is open)."""
    today = market_day(now)
    statuses: dict[str, Counter[str | None]] = {}
    for stall in city.stalls:
        if stall.active:
            statuses.setdefault(stall.text("market_id") or "", Counter())[counted_status(stall, today)] += 1
    rows = []
    for market in city.markets:
        counted = statuses.get(market.ref, Counter())
        rows.append(
            MarketRow(
                market_id=market.ref,
                name=market.text("name") or "",
                active=market.active,
                place=Place.of(market),
                stalls_total=counted.total(),
                stalls_open=counted[STALL_OPEN],
                stalls_vacant=counted[STALL_VACANT],
                stalls_closed=counted[STALL_CLOSED],
                stalls_maintenance=counted[STALL_MAINTENANCE],
            )
        )
    return rows


def service_points(city: AreaContents) -> list[ServicePoint]:
    """Every service on offer at an active business, where the business is."""
    businesses = {shop.ref: shop for shop in city.shops if shop.active}
    points = []
    for service in city.services:
        shop = businesses.get(service.text("shop_id") or "")
        if shop is None or not service.active:
            continue
        points.append(
            ServicePoint(
                service=service.text("service") or "unknown",
                business_kind=shop.text("kind") or "",
                place=Place.of(shop),
                weekly_minutes=service.count("weekly_minutes"),
                evening_minutes=service.count("evening_minutes"),
                weekend_minutes=service.count("weekend_minutes"),
            )
        )
    return sorted(points, key=lambda p: (p.service, p.place.districts, p.place.location or (0.0, 0.0)))


def historic_shops(city: AreaContents) -> list[HistoricShop]:
    """Every historic shop known, open or closed, by name."""
    shops = [
        HistoricShop(
            shop_id=shop.ref,
            name=shop.text("name") or "",
            year_founded=shop.count("year_founded") or None,
            status=shop.text("status") or "",
            place=Place.of(shop),
        )
        for shop in city.shops
        if shop.text("kind") == ShopKind.HISTORIC
    ]
    return sorted(shops, key=lambda s: (s.name, s.shop_id))


# ---------------------------------------------------------------- as downloaded

PLACE_COLUMNS = ["districts", "nil", "lon", "lat"]


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def _writer() -> tuple[io.StringIO, Any]:
    out = io.StringIO()
    # CRLF as RFC 4180 says: the writer then quotes any cell holding a \r or \n, so a name cannot split a row
    return out, csv.writer(out, lineterminator="\r\n")


def markets_csv_text(rows: list[MarketRow]) -> str:
    out, writer = _writer()
    writer.writerow(
        [
            "market_id",
            "name",
            "active",
            *PLACE_COLUMNS,
            "stalls_total",
            "stalls_open",
            "stalls_vacant",
            "stalls_closed",
            "stalls_maintenance",
            "stall_occupancy",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                cell(r.market_id),
                cell(r.name),
                str(r.active).lower(),
                *r.place.cells(),
                r.stalls_total,
                r.stalls_open,
                r.stalls_vacant,
                r.stalls_closed,
                r.stalls_maintenance,
                blank(r.stall_occupancy),
            ]
        )
    return out.getvalue()


def _service_properties(p: ServicePoint) -> dict[str, Any]:
    return {
        "service": p.service,
        "business_kind": p.business_kind,
        "districts": list(p.place.districts),
        "nil": p.place.nil,
        "weekly_hours": _hours(p.weekly_minutes),
        "evening_hours": _hours(p.evening_minutes),
        "weekend_hours": _hours(p.weekend_minutes),
    }


def service_points_csv_text(points: list[ServicePoint]) -> str:
    out, writer = _writer()
    writer.writerow(["service", "business_kind", *PLACE_COLUMNS, "weekly_hours", "evening_hours", "weekend_hours"])
    for p in points:
        hours = [_hours(p.weekly_minutes), _hours(p.evening_minutes), _hours(p.weekend_minutes)]
        writer.writerow([cell(p.service), cell(p.business_kind), *p.place.cells(), *hours])
    return out.getvalue()


def service_points_geojson(points: list[ServicePoint]) -> dict[str, Any]:
    """A FeatureCollection of points; a business placed without coordinates has a null geometry."""
    features = [
        {"type": "Feature", "geometry": p.place.geometry(), "properties": _service_properties(p)} for p in points
    ]
    return {"type": "FeatureCollection", "features": features}


def historic_shops_csv_text(shops: list[HistoricShop]) -> str:
    out, writer = _writer()
    writer.writerow(["shop_id", "name", "year_founded", "status", *PLACE_COLUMNS])
    for s in shops:
        writer.writerow([cell(s.shop_id), cell(s.name), blank(s.year_founded), cell(s.status), *s.place.cells()])
    return out.getvalue()
