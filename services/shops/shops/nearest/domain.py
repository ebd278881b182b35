"""Points offering something, kept per catalogue code in grid indexes that walk them nearest-first.

Pure: the index holds what the nearest-point search looks through and follows offers and shops
as they change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator
from dataclasses import dataclass, replace
from typing import cast

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


def _timetable(point: ServicePoint) -> Hashable:
    return point.hours


class ServicePointIndex:
    """Service points in one grid per catalogue code (grouped in each cell by timetable, so a search
    passes over the points of a timetable closed at that moment at once), and which points each shop has."""

    def __init__(self, cell_deg: float = 0.005) -> None:
        self.cell_deg = cell_deg
        self._grids: dict[str, GridIndex[ServicePoint]] = {}
        self._code_of: dict[str, str] = {}
        self._points_of_shop: dict[str, set[str]] = {}
        self._timetables: dict[tuple[str, frozenset[str]], set[WeeklyHours]] = {}

    def __len__(self) -> int:
        return len(self._code_of)

    def counts(self) -> dict[str, int]:
        return {code: len(grid) for code, grid in self._grids.items()}

    def put(self, point: ServicePoint) -> None:
        self.remove(point.offer_id)
        self._timetables.clear()
        grid = self._grids.setdefault(point.code, GridIndex(self.cell_deg, _timetable))
        grid.put(point.offer_id, point.shop.lon, point.shop.lat, point)
        self._code_of[point.offer_id] = point.code
        self._points_of_shop.setdefault(point.shop.shop_id, set()).add(point.offer_id)

    def remove(self, offer_id: str) -> None:
        code = self._code_of.pop(offer_id, None)
        if code is None:
            return
        self._timetables.clear()
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

    def timetables_of(self, code: str, shop_ids: frozenset[str]) -> set[WeeklyHours]:
        """The timetables of the shops' points offering ``code`` (kept until a point changes)."""
        found = self._timetables.get((code, shop_ids))
        if found is None:
            found = self._timetables[code, shop_ids] = self._find_timetables(code, shop_ids)
        return found

    def _find_timetables(self, code: str, shop_ids: Collection[str]) -> set[WeeklyHours]:
        grid = self._grids.get(code)
        found: set[WeeklyHours] = set()
        for shop_id in shop_ids:
            for offer_id in self._points_of_shop.get(shop_id, ()):
                placed = grid.get(offer_id) if grid is not None else None
                if placed is not None:
                    found.add(placed.value.hours)
        return found

    def nearest(
        self,
        code: str,
        lon: float,
        lat: float,
        keep: Callable[[ServicePoint], bool] | None = None,
        skip: Callable[[WeeklyHours], bool] | None = None,
    ) -> Iterator[tuple[float, ServicePoint]]:
        """Points offering ``code`` closest first: those ``keep`` accepts, except every point whose
        timetable ``skip`` passes over."""
        grid = self._grids.get(code)
        if grid is None:
            return
        passed = None if skip is None else cast(Callable[[Hashable], bool], skip)
        for distance, placed in grid.nearest(lon, lat, keep, passed):
            yield distance, placed.value
