""" "Nearest open point offering X": an in-process index per catalogue code, MongoDB as the truth.

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
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import date, datetime
from itertools import islice
from typing import Protocol

from shared import tasks
from shared.metrics import ServiceMetrics
from shops.clock import local_time
from shops.closures.domain import Closure, ClosureCalendar
from shops.nearest.domain import Nearby, ServicePoint, ServicePointIndex
from shops.nearest.geoindex import haversine_m
from shops.offers.domain import Offer
from shops.offers.hours import WeeklyHours, week_minute
from shops.register.domain import ShopCard

log = logging.getLogger(__name__)
RELOAD_SLICE = 500


Change = Callable[[ServicePointIndex, ClosureCalendar], None]


class PointSource(Protocol):
    """Where the points come from: every one (for a load), or by ``$geoNear`` (before the first load)."""

    def service_points(self) -> AsyncGenerator[ServicePoint, None]: ...

    def geo_near(self, code: str, lon: float, lat: float) -> AsyncGenerator[ServicePoint, None]: ...

    def closures(self) -> AsyncGenerator[Closure, None]: ...

    async def closures_around(self, day: date) -> list[Closure]: ...


class NearestFinder:
    def __init__(
        self, store: PointSource, metrics: ServiceMetrics, *, reload_interval_s: float, cell_deg: float = 0.005
    ) -> None:
        self.store = store
        self.reload_interval_s = reload_interval_s
        self.cell_deg = cell_deg
        self.index: ServicePointIndex | None = None
        self.calendar: ClosureCalendar | None = None
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
            calendar = ClosureCalendar()
            async for closure in self.store.closures():
                calendar.put(closure)
            for change in self._replay:
                change(fresh, calendar)
        finally:
            replayed, self._replay = self._replay, None
        self.index, self.calendar = fresh, calendar
        self._points.set(len(fresh))
        self._reload_seconds.observe(time.perf_counter() - started)
        log.info("nearest-point index loaded: %d points (%d own writes replayed)", len(fresh), len(replayed))

    async def start(self) -> None:
        """Load once (so a ready service answers from the index), then reload periodically."""
        await self._reload_logged()
        self._task = asyncio.create_task(self._reload_forever(), name="nearest-index-reload")

    async def stop(self) -> None:
        await tasks.cancel(self._task)

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
        if self.index is not None and self.calendar is not None:
            change(self.index, self.calendar)
            self._points.set(len(self.index))
        if self._replay is not None:
            self._replay.append(change)

    def point_saved(self, point: ServicePoint) -> None:
        self._apply(lambda index, _: index.put(point))

    def point_removed(self, offer_id: str) -> None:
        self._apply(lambda index, _: index.remove(offer_id))

    def shop_changed(self, card: ShopCard) -> None:
        self._apply(lambda index, _: index.update_shop(card))

    def offer_added(self, offer: Offer, card: ShopCard) -> None:
        self.point_saved(ServicePoint.of(offer, card))

    def offer_removed(self, offer_id: str) -> None:
        self.point_removed(offer_id)

    def closure_declared(self, closure: Closure) -> None:
        self._apply(lambda _, calendar: calendar.put(closure))

    def closure_withdrawn(self, shop_id: str, closure_id: str) -> None:
        self._apply(lambda _, calendar: calendar.remove(shop_id, closure_id))

    @staticmethod
    def _closed_timetables(
        index: ServicePointIndex,
        calendar: ClosureCalendar,
        code: str,
        day: date,
        opened_days_ago: Callable[[WeeklyHours], int | None],
    ) -> Callable[[WeeklyHours], bool]:
        """Which timetables an open-only search passes over: closed at that moment, unless some shop
        keeping it opens that day at a closure's exceptional hours (then its points are looked at)."""
        exceptional = index.timetables_of(code, calendar.with_hours_on(day))
        decided: dict[int, bool] = {}

        def closed(hours: WeeklyHours) -> bool:
            key = id(hours)
            if key not in decided:
                decided[key] = opened_days_ago(hours) is None and hours not in exceptional
            return decided[key]

        return closed

    async def find(
        self, code: str, lon: float, lat: float, at: datetime, *, limit: int, open_only: bool
    ) -> list[Nearby]:
        """The ``limit`` closest points of active shops offering ``code`` (open at ``at`` if ``open_only``).

        Open means the weekly hours say so and no closure of the shop covers that Milan day (nor the
        day before, for an evening interval that opened then and runs past midnight); on a day a
        closure with exceptional hours covers, open means within those hours.
        """
        started = time.perf_counter()
        local = local_time(at)
        minute, day = week_minute(local), local.date()
        index, calendar = self.index, self.calendar
        if index is None or calendar is None:
            calendar = ClosureCalendar(await self.store.closures_around(day))

        of_day = local.hour * 60 + local.minute
        opened: dict[int, int | None] = {}  # by timetable (points share them): when its session opened

        def opened_days_ago(hours: WeeklyHours) -> int | None:
            key = id(hours)
            if key not in opened:
                opened[key] = hours.opened_days_ago(minute)
            return opened[key]

        def is_open(point: ServicePoint) -> bool:
            return calendar.is_open(point.shop.shop_id, day, of_day, opened_days_ago(point.hours))

        def hours_today(point: ServicePoint) -> list[tuple[str, str]]:
            closure = calendar.closure_on(point.shop.shop_id, day)
            return closure.hours_text() if closure and closure.hours else point.hours.on_day_of(at)

        def wanted(point: ServicePoint) -> bool:
            return point.shop.active and (not open_only or is_open(point))

        ranked: list[tuple[float, ServicePoint]] = []
        if index is not None:
            source = "index"
            skip = self._closed_timetables(index, calendar, code, day, opened_days_ago) if open_only else None
            ranked = list(islice(index.nearest(code, lon, lat, wanted, skip), limit))
        else:
            source = "database"
            async with aclosing(self.store.geo_near(code, lon, lat)) as by_distance:
                async for point in by_distance:
                    if wanted(point):
                        ranked.append((haversine_m(lon, lat, point.shop.lon, point.shop.lat), point))
                        if len(ranked) == limit:
                            break
        self._query_seconds.labels(source).observe(time.perf_counter() - started)
        return [Nearby(p, d, is_open(p), hours_today(p), calendar.closure_on(p.shop.shop_id, day)) for d, p in ranked]
