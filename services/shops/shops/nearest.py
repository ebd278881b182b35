""" "Nearest open point offering X": an in-process index per service, MongoDB as the truth.

The index is loaded from MongoDB when the service is ready and kept current by this process's own
writes, applied after they commit. Other replicas' writes arrive by a periodic full reload
(``nearest_reload_interval_s``): simple, self-healing, and bounded in staleness; writes this
process makes while a reload is reading are replayed onto the fresh index before it replaces the
old one. Until the first load completes, queries go to MongoDB's ``$geoNear`` — same answers,
slower.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice

from shared.metrics import ServiceMetrics
from shops.domain import ServicePoint, ShopCard
from shops.geoindex import GridIndex, haversine_m
from shops.hours import local_time, week_minute
from shops.store import ShopStore

log = logging.getLogger(__name__)
RELOAD_SLICE = 500


@dataclass(frozen=True)
class Nearby:
    point: ServicePoint
    distance_m: float
    open_now: bool
    hours_today: list[tuple[str, str]]


class ServicePointIndex:
    """Service points in one grid per service code, and which points each shop has."""

    def __init__(self, cell_deg: float = 0.005) -> None:
        self.cell_deg = cell_deg
        self._grids: dict[str, GridIndex[ServicePoint]] = {}
        self._service_of: dict[str, str] = {}
        self._points_of_shop: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._service_of)

    def counts(self) -> dict[str, int]:
        return {service: len(grid) for service, grid in self._grids.items()}

    def put(self, point: ServicePoint) -> None:
        self.remove(point.service_id)
        grid = self._grids.setdefault(point.service, GridIndex(self.cell_deg))
        grid.put(point.service_id, point.shop.lon, point.shop.lat, point)
        self._service_of[point.service_id] = point.service
        self._points_of_shop.setdefault(point.shop.shop_id, set()).add(point.service_id)

    def remove(self, service_id: str) -> None:
        service = self._service_of.pop(service_id, None)
        if service is None:
            return
        grid = self._grids[service]
        placed = grid.get(service_id)
        grid.remove(service_id)
        if placed:
            shop_points = self._points_of_shop[placed.value.shop.shop_id]
            shop_points.discard(service_id)
            if not shop_points:
                del self._points_of_shop[placed.value.shop.shop_id]

    def update_shop(self, card: ShopCard) -> None:
        """The shop moved, was renamed, closed or reopened: its points follow."""
        for service_id in list(self._points_of_shop.get(card.shop_id, ())):
            placed = self._grids[self._service_of[service_id]].get(service_id)
            if placed:
                self.put(replace(placed.value, shop=card))

    def nearest(
        self, service: str, lon: float, lat: float, keep: Callable[[ServicePoint], bool] | None = None
    ) -> Iterator[tuple[float, ServicePoint]]:
        grid = self._grids.get(service)
        if grid is None:
            return
        for distance, placed in grid.nearest(lon, lat, keep):
            yield distance, placed.value


Change = Callable[[ServicePointIndex], None]


class NearestFinder:
    def __init__(
        self, store: ShopStore, metrics: ServiceMetrics, *, reload_interval_s: float, cell_deg: float = 0.005
    ) -> None:
        self.store = store
        self.reload_interval_s = reload_interval_s
        self.cell_deg = cell_deg
        self.index: ServicePointIndex | None = None
        self._replay: list[Change] | None = None
        self._task: asyncio.Task[None] | None = None
        self._query_seconds = metrics.histogram(
            "nearest_query_duration_seconds", "Nearest-point queries by where they were answered", ("source",)
        )
        self._reload_seconds = metrics.histogram(
            "nearest_index_reload_duration_seconds", "Full reloads of the nearest-point index from MongoDB"
        )
        self._points = metrics.gauge("nearest_index_points", "Service points held in the in-process index")

    async def reload(self) -> None:
        started = time.perf_counter()
        self._replay = []
        try:
            fresh = ServicePointIndex(self.cell_deg)
            async for point in self.store.service_points():
                fresh.put(point)
                if len(fresh) % RELOAD_SLICE == 0:
                    await asyncio.sleep(0)  # let requests in between slices of a large reload
            for change in self._replay:
                change(fresh)
        finally:
            replayed, self._replay = self._replay, None
        self.index = fresh
        self._points.set(len(fresh))
        self._reload_seconds.observe(time.perf_counter() - started)
        log.info("nearest-point index loaded: %d points (%d own writes replayed)", len(fresh), len(replayed))

    async def start(self) -> None:
        """Load once (so a ready service answers from the index), then reload periodically."""
        await self._reload_logged()
        self._task = asyncio.create_task(self._reload_forever(), name="nearest-index-reload")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _reload_forever(self) -> None:
        while True:
            await asyncio.sleep(self.reload_interval_s)
            await self._reload_logged()

    async def _reload_logged(self) -> None:
        try:
            await self.reload()
        except Exception as exc:  # noqa: BLE001 - keep serving the last index (or MongoDB) and retry later
            log.warning("nearest-point index reload failed (%s: %s)", type(exc).__name__, exc)

    def _apply(self, change: Change) -> None:
        if self.index is not None:
            change(self.index)
            self._points.set(len(self.index))
        if self._replay is not None:
            self._replay.append(change)

    def point_saved(self, point: ServicePoint) -> None:
        self._apply(lambda index: index.put(point))

    def point_removed(self, service_id: str) -> None:
        self._apply(lambda index: index.remove(service_id))

    def shop_changed(self, card: ShopCard) -> None:
        self._apply(lambda index: index.update_shop(card))

    async def find(
        self, service: str, lon: float, lat: float, at: datetime, *, limit: int, open_only: bool
    ) -> list[Nearby]:
        """The ``limit`` closest points of active shops offering ``service`` (open at ``at`` if ``open_only``)."""
        started = time.perf_counter()
        minute = week_minute(local_time(at))

        def wanted(point: ServicePoint) -> bool:
            return point.shop.active and (not open_only or point.hours.is_open_at(minute))

        index = self.index
        ranked: list[tuple[float, ServicePoint]] = []
        if index is not None:
            source = "index"
            ranked = list(islice(index.nearest(service, lon, lat, wanted), limit))
        else:
            source = "database"
            async with aclosing(self.store.geo_near(service, lon, lat)) as by_distance:
                async for point in by_distance:
                    if wanted(point):
                        ranked.append((haversine_m(lon, lat, point.shop.lon, point.shop.lat), point))
                        if len(ranked) == limit:
                            break
        self._query_seconds.labels(source).observe(time.perf_counter() - started)
        return [Nearby(p, d, p.hours.is_open_at(minute), p.hours.on_day_of(at)) for d, p in ranked]
