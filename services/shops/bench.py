"""Shops benchmark: "nearest open point" at city scale (100,000 points), with hours and closures.

Every side answers the question the API does (the 10 nearest points offering a service and open at
a given time, with their great-circle distance) through the service's own
:class:`~shops.nearest.service.NearestFinder`, loaded from the offers and closures stored in a
scratch database of the given server:

- the in-process grid index, as the service runs it;
- the baseline, a linear scan: the same finder with a single cell, so every query computes the
  distance of every open point offering the service and keeps the closest (same filters, same
  answers; the run fails if they differ);
- optionally (``database_queries``) MongoDB's ``$geoNear`` on the 2dsphere index, which the finder
  uses before its first load. The local database builds a 2dsphere index at a few hundred documents
  a second and answers ``$geoNear`` by scanning, so this side is for small runs only.

The city: shops spread over Milan's area (most near the centre, fewer towards the ring roads), each
offering one to three services with a shop's kind of timetable (kiosks from dawn, shops with a lunch
break, supermarkets into the evening, late venues past midnight, a few always open), some shops
closed for good, and closures around the week the queries ask about (whole days, holidays, days of
exceptional hours) beside older ones. The index's load time (documents → ready) is split into
reading the documents and building the index, and its memory is what tracemalloc still counts once
the load is over. Run as ``python services/shops/bench.py [--mongo-url URL] [--points N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shops.closures.domain import Closure, DayRange
from shops.closures.store import CLOSURES, closure_to_doc
from shops.nearest.service import NearestFinder
from shops.nearest.store import ServicePointStore
from shops.offers.domain import CATALOGUE, Offer
from shops.offers.store import OfferStore, card_fields, offer_to_doc
from shops.register.domain import Registry, Shop, ShopCard, ShopKind, ShopStatus
from shops.settings import ShopsSettings

from shared.metrics import ServiceMetrics
from shared.mongo import Document, Mongo
from shared.places import Location, OpeningInterval

MILAN = (9.08, 45.40, 9.28, 45.54)  # west, south, east, north
DUOMO = (9.19, 45.464)
SERVICE = "ritiro_pacchi"
QUERY_WEEK = date(2026, 7, 6)  # a Monday: queries ask about a moment of this week, Milan time
WORKDAYS, SIX_DAYS, EVERY_DAY = range(5), range(6), range(7)
# (share of shops, kind, timetable as (days, opens, closes) blocks)
TIMETABLES: tuple[tuple[float, ShopKind, tuple[tuple[range, str, str], ...]], ...] = (
    (
        0.22,
        ShopKind.KIOSK,
        ((SIX_DAYS, "06:30", "13:00"), (SIX_DAYS, "15:00", "19:30"), (range(6, 7), "07:00", "12:30")),
    ),
    (0.30, ShopKind.SHOP, ((range(1, 6), "09:30", "13:00"), (SIX_DAYS, "15:30", "19:30"))),
    (0.18, ShopKind.SHOP, ((EVERY_DAY, "08:00", "21:00"),)),
    (0.12, ShopKind.SHOP, ((WORKDAYS, "09:00", "12:30"), (range(1, 4), "14:30", "17:00"))),
    (0.08, ShopKind.SHOP, ((range(2, 7), "18:00", "02:00"),)),
    (0.06, ShopKind.HISTORIC, ((range(1, 6), "10:00", "19:00"),)),
    (0.04, ShopKind.SHOP, ((EVERY_DAY, "00:00", "24:00"),)),
)
CLOSED_FOR_GOOD = 0.02
# closures of a shop: (share of shops, first day from the query week's Monday, days, exceptional hours)
CLOSURES_NEAR: tuple[tuple[float, int, int, tuple[DayRange, ...]], ...] = (
    (0.03, -10, 21, ()),  # holidays spanning the query week
    (0.02, 2, 1, ()),  # one day (Wednesday) off
    (0.02, 4, 2, (DayRange(9 * 60, 13 * 60),)),  # Friday and Saturday mornings only
)
OLD_CLOSURES = 0.15  # shops with a closure long over (the calendar holds them, no query day is covered)


def _place(rng: random.Random) -> Location:
    """Most shops near the centre, fewer towards the edge of the city, none outside it."""
    west, south, east, north = MILAN
    while True:
        if rng.random() < 0.6:
            lon, lat = rng.gauss(DUOMO[0], 0.03), rng.gauss(DUOMO[1], 0.022)
        else:
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if west <= lon <= east and south <= lat <= north:
            return Location(lon=lon, lat=lat)


def _timetables(now: datetime) -> list[tuple[float, ShopKind, Document]]:
    """Each timetable as a stored offer (made and checked by the domain once), to copy for every shop."""
    made = []
    for share, kind, blocks in TIMETABLES:
        hours = tuple(OpeningInterval(day=d, opens=o, closes=c) for days, o, c in blocks for d in days)
        shop = Shop.register(
            "template",
            Registry(kind=kind, name="template", location=Location(lon=DUOMO[0], lat=DUOMO[1])),
            ShopStatus.ACTIVE,
            now,
        )
        offer = Offer.create(offer_id="template", shop=shop, code=SERVICE, hours=hours, note="", actor="bench", now=now)
        made.append((share, kind, offer_to_doc(offer, shop.card())))
    return made


def _closures(rng: random.Random, shop_id: str, now: datetime) -> list[Closure]:
    found: list[Closure] = []
    draw, upto = rng.random(), 0.0
    for share, offset, days, hours in CLOSURES_NEAR:
        upto += share
        if draw < upto:
            first = QUERY_WEEK + timedelta(days=offset)
            found.append(_closure(shop_id, len(found), first, days, hours, now))
            break
    if rng.random() < OLD_CLOSURES:
        first = QUERY_WEEK - timedelta(days=rng.randrange(30, 330))
        found.append(_closure(shop_id, len(found), first, rng.randrange(1, 15), (), now))
    return found


def _closure(shop_id: str, n: int, first: date, days: int, hours: tuple[DayRange, ...], now: datetime) -> Closure:
    return Closure.declare(
        closure_id=f"{shop_id}-c{n}",
        shop_id=shop_id,
        first=first,
        last=first + timedelta(days=days - 1),
        reason="ferie" if days > 3 else "chiusura",
        actor="bench",
        now=now,
        hours=hours,
    )


def city(rng: random.Random, points: int, now: datetime) -> tuple[list[Document], list[Document], int]:
    """``points`` offer documents of shops across Milan, their closures' documents, and the shop count.

    A document is the one :func:`offer_to_doc` wrote for its timetable with this shop's id, service
    and card (so 100,000 points do not take minutes of the domain's checks).
    """
    offers: list[Document] = []
    closures: list[Document] = []
    shops = 0
    others = [entry.code for entry in CATALOGUE if entry.code != SERVICE]
    timetables = _timetables(now)
    shares = [share for share, _, _ in timetables]
    while len(offers) < points:
        shop_id = f"bench-{shops}"
        _, kind, template = rng.choices(timetables, weights=shares)[0]
        place = _place(rng)
        active = rng.random() >= CLOSED_FOR_GOOD
        card = ShopCard(shop_id, f"Bench {shops}", kind, f"Via Bench {shops}", place.lon, place.lat, active)
        # a quarter of the shops offer the service the queries ask for; each offers one to three
        codes = ([SERVICE] if rng.random() < 0.25 else []) + rng.sample(others, rng.randint(1, 3))
        for code in codes[: min(3, points - len(offers))]:
            offers.append(
                {**template, "_id": f"{shop_id}-{code}", "shop_id": shop_id, "service": code, **card_fields(card)}
            )
        closures += [closure_to_doc(c) for c in _closures(rng, shop_id, now)]
        shops += 1
    return offers, closures, shops


def _percentiles_ms(seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles([s * 1000 for s in seconds], n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 3), "p95_ms": round(cuts[94], 3), "p99_ms": round(cuts[98], 3), "n": len(seconds)}


def _queries(rng: random.Random, count: int) -> list[tuple[float, float, datetime]]:
    """Where and when citizens ask: anywhere in the city, any minute of the query week (Milan time)."""
    west, south, east, north = MILAN
    monday = datetime(QUERY_WEEK.year, QUERY_WEEK.month, QUERY_WEEK.day, tzinfo=UTC) - timedelta(hours=2)
    return [
        (rng.uniform(west, east), rng.uniform(south, north), monday + timedelta(minutes=rng.randrange(7 * 24 * 60)))
        for _ in range(count)
    ]


async def _timed(
    finder: NearestFinder, queries: list[tuple[float, float, datetime]], limit: int
) -> tuple[list[float], list[float], list[list[str]]]:
    """Each query's wall-clock seconds, the CPU seconds this thread spent on it (what other processes
    on a shared machine cannot add to), and its answer."""
    timings: list[float] = []
    cpu: list[float] = []
    answers: list[list[str]] = []
    for lon, lat, at in queries:
        started, cpu_started = time.perf_counter(), time.thread_time()
        found = await finder.find(SERVICE, lon, lat, at, limit=limit, open_only=True)
        timings.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)
        answers.append([f.point.offer_id for f in found])
    return timings, cpu, answers


async def _read_all(store: ServicePointStore) -> float:
    """Seconds to read every offer and closure from the database (the load without the index)."""
    started = time.perf_counter()
    async for _ in store.service_points():
        pass
    async for _ in store.closures():
        pass
    return time.perf_counter() - started


async def _memory_of_load(store: ServicePointStore) -> dict[str, float]:
    """What a loaded index (points and calendar) keeps in memory, and the load's peak, by tracemalloc."""
    finder = NearestFinder(store, ServiceMetrics("shops_bench_memory"), reload_interval_s=3600)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await finder.reload()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mib = 1024 * 1024
    return {"held_mib": round((held - before) / mib, 1), "load_peak_mib": round((peak - before) / mib, 1)}


async def run(
    mongo_url: str | None = None,
    *,
    points: int = 100_000,
    index_queries: int = 2_000,
    scan_queries: int = 100,
    database_queries: int = 0,
    limit: int = 10,
    seed: int = 2026,
) -> dict[str, Any]:
    """Store a city of ``points`` offered services, load the index, time nearest-open queries; the figures."""
    overrides: dict[str, Any] = {"mongo_url": mongo_url} if mongo_url else {}
    # $geoNear scans the whole collection on the local server: seconds per query at 10,000 points
    settings = ShopsSettings(mongo_db=f"shops_bench_{uuid.uuid4().hex[:8]}", mongo_timeout_ms=60_000, **overrides)
    mongo = Mongo(settings)
    rng = random.Random(seed)
    try:
        if database_queries:
            await mongo.ensure_indexes(OfferStore.indexes)
        now = datetime.now(UTC)
        offers, closures, shops = city(rng, points, now)
        started = time.perf_counter()
        for first in range(0, len(offers), 1_000):
            await OfferStore(mongo.db).offers.insert_many(offers[first : first + 1_000])
        if closures:
            await mongo.db[CLOSURES].insert_many(closures)
        insert_s = time.perf_counter() - started
        store = ServicePointStore(mongo.db)
        read_s = await _read_all(store)
        indexed = NearestFinder(store, ServiceMetrics("shops_bench"), reload_interval_s=3600)
        started = time.perf_counter()
        await indexed.reload()
        load_s = time.perf_counter() - started
        memory = await _memory_of_load(store)
        scanned = NearestFinder(store, ServiceMetrics("shops_bench_scan"), reload_interval_s=3600, cell_deg=360.0)
        await scanned.reload()
        queries = _queries(random.Random(seed + 1), index_queries)
        index_s, index_cpu_s, index_answers = await _timed(indexed, queries, limit)
        scan_s, _, scan_answers = await _timed(scanned, queries[:scan_queries], limit)
        if index_answers[:scan_queries] != scan_answers:
            raise AssertionError("the index and the linear scan gave different answers")
        index, scan = _percentiles_ms(index_s), _percentiles_ms(scan_s)
        figures: dict[str, Any] = {
            "points": points,
            "shops": shops,
            "points_offering_the_service": sum(1 for o in offers if o["service"] == SERVICE),
            "closures": len(closures),
            "limit": limit,
            "insert_s": round(insert_s, 2),
            "index_load_s": round(load_s, 3),
            "index_read_s": round(read_s, 3),
            "index_build_s": round(max(0.0, load_s - read_s), 3),
            "index_memory": memory,
            "index": index,
            "index_cpu": _percentiles_ms(index_cpu_s),
            "scan": scan,
            "p50_speedup": round(scan["p50_ms"] / index["p50_ms"], 1),
            "p99_speedup": round(scan["p99_ms"] / index["p99_ms"], 1),
            "mean_results": round(statistics.fmean(len(a) for a in index_answers), 2),
        }
        if database_queries:
            unindexed = NearestFinder(store, ServiceMetrics("shops_bench_geonear"), reload_interval_s=3600)
            geonear_s, _, geonear_answers = await _timed(unindexed, queries[:database_queries], limit)
            if [len(a) for a in index_answers[:database_queries]] != [len(a) for a in geonear_answers]:
                raise AssertionError("the index and $geoNear returned different numbers of points")
            figures["geonear"] = geonear = _percentiles_ms(geonear_s)
            figures["geonear_p50_speedup"] = round(geonear["p50_ms"] / index["p50_ms"], 1)
        return figures
    finally:
        await mongo.client.drop_database(settings.database_name)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mongo-url", default=None, help="default: MONGO_URL or the local database")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--geonear-queries", type=int, default=0)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.mongo_url, points=args.points, index_queries=args.queries, database_queries=args.geonear_queries)
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
