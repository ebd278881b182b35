"""An in-process grid index of points, walked nearest-first by great-circle distance.

Points sit in square cells of ``cell_deg`` degrees. A query visits rings of cells around its own
cell and yields points in increasing haversine distance, lazily: a point is yielded only once no
unvisited cell can hold anything closer, so a caller that filters (open now, active shop) simply
keeps pulling until it has enough. When the rings would cost more than the occupied cells, the
rest is scanned at once, so sparse far-away points never make a query slow. Distances do not wrap
across the antimeridian (the city is nowhere near it).

Within a cell, points are kept in groups (by default one): a caller that knows a whole group is
unwanted (for the nearest-open search, every point of a timetable that is closed at that moment)
passes it over with one test instead of one per point.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

EARTH_RADIUS_M = 6_371_008.8
T = TypeVar("T")
Cell = tuple[int, int]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean Earth sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Placed(Generic[T]):
    key: str
    lon: float
    lat: float
    value: T


class GridIndex(Generic[T]):
    def __init__(self, cell_deg: float = 0.005, group: Callable[[T], Hashable] | None = None) -> None:
        self.cell_deg = cell_deg
        self._group = group
        self._cells: dict[Cell, dict[Hashable, dict[str, Placed[T]]]] = {}
        self._sizes: dict[Cell, int] = {}
        self._place_of: dict[str, tuple[Cell, Hashable]] = {}

    def __len__(self) -> int:
        return len(self._place_of)

    def _cell(self, lon: float, lat: float) -> Cell:
        return math.floor(lon / self.cell_deg), math.floor(lat / self.cell_deg)

    def put(self, key: str, lon: float, lat: float, value: T) -> None:
        """Insert or move/replace the point stored under ``key``."""
        self.remove(key)
        cell = self._cell(lon, lat)
        group = None if self._group is None else self._group(value)
        self._cells.setdefault(cell, {}).setdefault(group, {})[key] = Placed(key, lon, lat, value)
        self._sizes[cell] = self._sizes.get(cell, 0) + 1
        self._place_of[key] = cell, group

    def get(self, key: str) -> Placed[T] | None:
        place = self._place_of.get(key)
        return None if place is None else self._cells[place[0]][place[1]][key]

    def remove(self, key: str) -> None:
        place = self._place_of.pop(key, None)
        if place is None:
            return
        cell, group = place
        groups = self._cells[cell]
        members = groups[group]
        del members[key]
        if not members:
            del groups[group]
        self._sizes[cell] -= 1
        if not groups:
            del self._cells[cell], self._sizes[cell]

    def nearest(
        self,
        lon: float,
        lat: float,
        keep: Callable[[T], bool] | None = None,
        skip: Callable[[Hashable], bool] | None = None,
    ) -> Iterator[tuple[float, Placed[T]]]:
        """Every point (whose value ``keep`` accepts, in a group ``skip`` does not pass over) as
        ``(distance_m, point)``, closest first.

        Filtering here rather than after spares the distance and the heap to points nobody wants.
        """
        cx, cy = self._cell(lon, lat)
        heap: list[tuple[float, str, Placed[T]]] = []
        remaining = len(self._place_of)
        ring = 0
        while remaining:
            if _ring_size(ring) > len(self._cells):
                for (x, y), groups in self._cells.items():
                    if max(abs(x - cx), abs(y - cy)) >= ring:
                        self._push(heap, groups, lon, lat, keep, skip)
                remaining = 0
            else:
                for cell in _ring(cx, cy, ring):
                    in_cell = self._cells.get(cell)
                    if in_cell:
                        self._push(heap, in_cell, lon, lat, keep, skip)
                        remaining -= self._sizes[cell]
            bound = self._outside_bound(lon, lat, cx, cy, ring) if remaining else math.inf
            while heap and heap[0][0] <= bound:
                distance, _, placed = heapq.heappop(heap)
                yield distance, placed
            ring += 1
        while heap:
            distance, _, placed = heapq.heappop(heap)
            yield distance, placed

    @staticmethod
    def _push(
        heap: list[tuple[float, str, Placed[T]]],
        groups: dict[Hashable, dict[str, Placed[T]]],
        lon: float,
        lat: float,
        keep: Callable[[T], bool] | None,
        skip: Callable[[Hashable], bool] | None,
    ) -> None:
        for group, members in groups.items():
            if skip is not None and skip(group):
                continue
            for placed in members.values():
                if keep is None or keep(placed.value):
                    heapq.heappush(heap, (haversine_m(lon, lat, placed.lon, placed.lat), placed.key, placed))

    def _outside_bound(self, lon: float, lat: float, cx: int, cy: int, ring: int) -> float:
        """A lower bound on the distance from the query to any point outside the visited rings.

        Such a point lies beyond the block's south/north edge (at least that many degrees of
        latitude away) or, within the block's latitudes, beyond its west/east edge (at least that
        many degrees of longitude away, at a latitude no further from the equator than the block).
        """
        size = self.cell_deg
        west, east = (cx - ring) * size, (cx + ring + 1) * size
        south, north = (cy - ring) * size, (cy + ring + 1) * size
        by_latitude = EARTH_RADIUS_M * math.radians(min(lat - south, north - lat))
        dlambda = math.radians(min(lon - west, east - lon))
        widest = math.radians(min(90.0, max(abs(south), abs(north))))
        h = math.cos(math.radians(lat)) * math.cos(widest) * math.sin(dlambda / 2) ** 2
        by_longitude = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(max(0.0, h))))
        return min(by_latitude, by_longitude)


def _ring_size(ring: int) -> int:
    return 1 if ring == 0 else 8 * ring


def _ring(cx: int, cy: int, ring: int) -> Iterator[Cell]:
    if ring == 0:
        yield cx, cy
        return
    for dx in range(-ring, ring + 1):
        yield cx + dx, cy - ring
        yield cx + dx, cy + ring
    for dy in range(-ring + 1, ring):
        yield cx - ring, cy + dy
        yield cx + ring, cy + dy
