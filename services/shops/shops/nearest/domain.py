"""Points offering something, kept per catalogue code in grid indexes that walk them nearest-first.

Pure: the index holds what the nearest-point search looks through and follows offers and shops
as they change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from shops.closures.domain import Closure
from shops.nearest.geoindex import GridIndex
from shops.offers.domain import Offer
from shops.offers.hours import WeeklyHours
from shops.register.domain import ShopCard


@dataclass(frozen=True)
class ServicePoint:
    """One offer where it is offered: what the nearest-point search looks through."""

    offer_id: str
    code: str
    shop: ShopCard
    hours: WeeklyHours

    @classmethod
    def of(cls, offer: Offer, card: ShopCard) -> ServicePoint:
        return cls(offer.id, offer.code, card, offer.weekly())


@dataclass(frozen=True)
class Nearby:
    point: ServicePoint
    distance_m: float
    open_now: bool
    hours_today: list[tuple[str, str]]
    closure: Closure | None = None  # the shop's closure covering the day asked about


class ServicePointIndex:
    """Service points in one grid per catalogue code, and which points each shop has."""

    def __init__(self, cell_deg: float = 0.005) -> None:
        self.cell_deg = cell_deg
        self._grids: dict[str, GridIndex[ServicePoint]] = {}
        self._code_of: dict[str, str] = {}
        self._points_of_shop: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._code_of)

    def counts(self) -> dict[str, int]:
        return {code: len(grid) for code, grid in self._grids.items()}

    def put(self, point: ServicePoint) -> None:
        self.remove(point.offer_id)
        grid = self._grids.setdefault(point.code, GridIndex(self.cell_deg))
        grid.put(point.offer_id, point.shop.lon, point.shop.lat, point)
        self._code_of[point.offer_id] = point.code
        self._points_of_shop.setdefault(point.shop.shop_id, set()).add(point.offer_id)

    def remove(self, offer_id: str) -> None:
        code = self._code_of.pop(offer_id, None)
        if code is None:
            return
        grid = self._grids[code]
        placed = grid.get(offer_id)
        grid.remove(offer_id)
        if placed:
            shop_points = self._points_of_shop[placed.value.shop.shop_id]
            shop_points.discard(offer_id)
            if not shop_points:
                del self._points_of_shop[placed.value.shop.shop_id]

    def update_shop(self, card: ShopCard) -> None:
        """The shop moved, was renamed, closed or reopened: its points follow."""
        for offer_id in list(self._points_of_shop.get(card.shop_id, ())):
            placed = self._grids[self._code_of[offer_id]].get(offer_id)
            if placed:
                self.put(replace(placed.value, shop=card))

    def nearest(
        self, code: str, lon: float, lat: float, keep: Callable[[ServicePoint], bool] | None = None
    ) -> Iterator[tuple[float, ServicePoint]]:
        grid = self._grids.get(code)
        if grid is None:
            return
        for distance, placed in grid.nearest(lon, lat, keep):
            yield distance, placed.value
