"""The in-process index answers like MongoDB's $geoNear, follows other replicas, and keeps own writes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shops.closures.domain import Closure, ClosureCalendar, DayRange
from shops.closures.service import ClosuresService
from shops.main import create_app
from shops.nearest.domain import Nearby, ServicePoint
from shops.nearest.geoindex import haversine_m
from shops.nearest.service import NearestFinder
from shops.offers.hours import WeeklyHours, week_minute
from shops.offers.service import OffersService
from shops.register.domain import Registry, ShopCard, ShopKind, ShopStatus
from shops.register.service import ShopsService

from devkit.testing import running_app
from shared.metrics import ServiceMetrics
from shared.places import Location, OpeningInterval
from shared.versions import Precondition

SERVICES = ("ritiro_pacchi", "info_turistiche")
ROME = ZoneInfo("Europe/Rome")


class SlowStore:
    """A store whose full read waits until told to finish, to write while a reload is reading."""

    def __init__(self, points: list[ServicePoint]) -> None:
        self.points = points
        self.reading = asyncio.Event()
        self.finish = asyncio.Event()

    async def service_points(self) -> AsyncIterator[ServicePoint]:
        for point in self.points:
            yield point
        self.reading.set()
        await self.finish.wait()

    async def closures(self) -> AsyncIterator[Closure]:
        for closure in ():
            yield closure


def point(offer_id: str, lon: float, shop_id: str | None = None) -> ServicePoint:
    card = ShopCard(shop_id or offer_id, offer_id, ShopKind.KIOSK, "", lon, 45.46, True)
    return ServicePoint(offer_id, "ritiro_pacchi", card, WeeklyHours.of([(d, "00:00", "00:00") for d in range(7)]))


async def test_own_writes_during_a_reload_survive_it() -> None:
    store = SlowStore([point("old", 9.19), point("gone", 9.191)])
    finder = NearestFinder(store, ServiceMetrics("test"), reload_interval_s=60)  # type: ignore[arg-type]
    reloading = asyncio.create_task(finder.reload())
    await store.reading.wait()
    finder.point_saved(point("new", 9.192))
    finder.point_removed("gone")
    finder.shop_changed(ShopCard("old", "renamed", ShopKind.KIOSK, "", 9.19, 45.46, True))
    store.finish.set()
    await reloading
    found = await finder.find("ritiro_pacchi", 9.19, 45.46, datetime.now(UTC), limit=10, open_only=True)
    assert [(f.point.offer_id, f.point.shop.name) for f in found] == [("old", "renamed"), ("new", "new")]


def random_hours(rng: random.Random) -> tuple[OpeningInterval, ...]:
    days = rng.sample(range(7), rng.randint(1, 7))
    opens = rng.choice(["06:00", "08:30", "15:00", "20:00"])
    closes = rng.choice(["12:00", "19:30", "02:00", "00:00"])
    return tuple(OpeningInterval(day=d, opens=opens, closes=closes) for d in sorted(days))


async def populate(
    shops: ShopsService, offers: OffersService, closures: ClosuresService, rng: random.Random, count: int
) -> None:
    for i in range(count):
        lon, lat = 9.10 + rng.random() * 0.16, 45.42 + rng.random() * 0.09
        registry = Registry(kind=ShopKind.KIOSK, name=f"Edicola {i}", location=Location(lon=lon, lat=lat))
        status = ShopStatus.CLOSED if i % 9 == 0 else ShopStatus.ACTIVE
        await shops.put(f"ed-{i}", registry, ShopStatus.ACTIVE, "office", Precondition.any())
        for service in rng.sample(SERVICES, rng.randint(1, 2)):
            await offers.add(f"ed-{i}", service, random_hours(rng), "", "office")
        if i % 4 == 1:  # closed on one to three days of the week the searches look at (6-12 July 2026)
            first = date(2026, 7, 6) + timedelta(days=rng.randrange(7))
            await closures.declare(f"ed-{i}", first, first + timedelta(days=rng.randrange(3)), "ferie", "office")
        if status is ShopStatus.CLOSED:
            await shops.change_status(
                f"ed-{i}", status, note=None, at=None, actor="office", precondition=Precondition.any()
            )


def summary(found: list[Nearby]) -> list[tuple[str, float, bool, str | None]]:
    return [(f.point.offer_id, round(f.distance_m, 3), f.open_now, f.closure and f.closure.id) for f in found]


async def wait_for(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.integration
async def test_index_matches_geonear_and_follows_another_replica(shops_settings: Any) -> None:
    settings = shops_settings(nearest_reload_interval_s=0.3)
    rng = random.Random(11)
    first = create_app(settings)
    async for _ in running_app(first):
        runtime = first.state.runtime
        components = (runtime.component(ShopsService), runtime.component(OffersService))
        closures = runtime.component(ClosuresService)
        closures.clock = lambda: datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # declared before the week searched
        await populate(*components, closures, rng, 60)
        index_finder = runtime.component(NearestFinder)
        database_finder = NearestFinder(index_finder.store, ServiceMetrics("test"), reload_interval_s=60)
        monday = datetime(2026, 7, 6, tzinfo=UTC)
        closed_seen = 0
        for _ in range(30):
            lon, lat = 9.10 + rng.random() * 0.16, 45.42 + rng.random() * 0.09
            at = monday + timedelta(minutes=rng.randrange(7 * 24 * 60))
            service, open_only = rng.choice(SERVICES), rng.random() < 0.7
            args = (service, lon, lat, at)
            from_index = await index_finder.find(*args, limit=8, open_only=open_only)
            from_database = await database_finder.find(*args, limit=8, open_only=open_only)
            assert summary(from_index) == summary(from_database)
            assert all(f.point.shop.active for f in from_index)
            assert not any(f.closure for f in from_index if open_only), "a closed day lists no open point"
            closed_seen += sum(1 for f in from_index if f.closure)
        assert closed_seen, "the searches met shops on their closed days"

        second = create_app(settings)
        async for _ in running_app(second):
            replica = second.state.runtime.component(NearestFinder)
            assert replica.index is not None and len(replica.index) == len(index_finder.index or ())
            here = (9.2500, 45.5200)
            registry = Registry(kind=ShopKind.SHOP, name="Nuovo", location=Location(lon=here[0], lat=here[1]))
            await runtime.component(ShopsService).put(
                "nuovo", registry, ShopStatus.ACTIVE, "office", Precondition.any()
            )
            always = tuple(OpeningInterval(day=d, opens="00:00", closes="00:00") for d in range(7))
            await runtime.component(OffersService).add("nuovo", "ritiro_pacchi", always, "", "office")

            async def replica_sees_it() -> bool:
                found = await replica.find("ritiro_pacchi", *here, monday, limit=1, open_only=True)
                return bool(found) and found[0].point.shop.shop_id == "nuovo"

            started = time.perf_counter()
            await wait_for(replica_sees_it)
            print(f"\nanother replica's write visible after {time.perf_counter() - started:.2f} s")


class MemoryStore:
    """Points and closures held in memory, read whole as a load does."""

    def __init__(self, points: list[ServicePoint], closures: list[Closure]) -> None:
        self.points, self.closure_list = points, closures

    async def service_points(self) -> AsyncIterator[ServicePoint]:
        for p in self.points:
            yield p

    async def closures(self) -> AsyncIterator[Closure]:
        for c in self.closure_list:
            yield c


async def test_open_search_passes_over_closed_timetables_but_not_exceptional_hours() -> None:
    """The index skips the points of a timetable closed at that moment in one go; a shop that opens at a
    closure's exceptional hours while its timetable says closed is still found, as brute force finds it."""
    rng = random.Random(5)
    timetables = [
        WeeklyHours.of([(d, "09:00", "12:00") for d in range(6)]),
        WeeklyHours.of([(d, "18:00", "02:00") for d in range(7)]),
        WeeklyHours.of([(d, "07:00", "20:00") for d in range(5)]),
    ]
    monday = date(2026, 7, 6)
    points, closures = [], []
    for n in range(600):
        card = ShopCard(
            f"s{n}", f"s{n}", ShopKind.SHOP, "", 9.10 + rng.random() * 0.16, 45.42 + rng.random() * 0.09, True
        )
        points.append(ServicePoint(f"o{n}", "ritiro_pacchi", card, rng.choice(timetables)))
        if rng.random() < 0.3:
            first = monday + timedelta(days=rng.randrange(7))
            hours = (DayRange(13 * 60, 16 * 60),) if rng.random() < 0.6 else ()
            closures.append(
                Closure.declare(
                    closure_id=f"c{n}",
                    shop_id=f"s{n}",
                    first=first,
                    last=first,
                    reason="",
                    actor="test",
                    now=datetime.now(UTC),
                    hours=hours,
                )
            )
    finder = NearestFinder(MemoryStore(points, closures), ServiceMetrics("test"), reload_interval_s=60)  # type: ignore[arg-type]
    await finder.reload()
    calendar = ClosureCalendar(closures)
    exceptional_found = 0
    for _ in range(80):
        lon, lat = 9.10 + rng.random() * 0.16, 45.42 + rng.random() * 0.09
        local = datetime.combine(monday + timedelta(days=rng.randrange(7)), datetime.min.time(), ROME)
        at = local + timedelta(minutes=rng.choice([rng.randrange(24 * 60), 13 * 60 + 30]))
        minute, of_day = week_minute(at), at.hour * 60 + at.minute
        expected = sorted(
            (haversine_m(lon, lat, p.shop.lon, p.shop.lat), p.offer_id)
            for p in points
            if calendar.is_open(p.shop.shop_id, at.date(), of_day, p.hours.opened_days_ago(minute))
        )[:5]
        found = await finder.find("ritiro_pacchi", lon, lat, at, limit=5, open_only=True)
        assert [f.point.offer_id for f in found] == [offer_id for _, offer_id in expected]
        exceptional_found += sum(1 for f in found if f.closure and not f.point.hours.is_open(at))
    assert exceptional_found, "some answers opened only at a closure's exceptional hours"
