"""Shops benchmark: "nearest open point" at 10,000 points, in-process index against plain ``$geoNear``.

Both sides answer the same question the API does (the 10 nearest points offering a service and
open at a given time, with their great-circle distance) through the service's own
:class:`~shops.nearest.service.NearestFinder`: once with the index loaded, once without it, when every
query goes to MongoDB's ``$geoNear`` on the 2dsphere index. Points are random across Milan, with
kiosk-like hours. The data lives in a scratch database that is dropped at the end.
Run as ``python services/shops/bench.py [--mongo-url URL]`` or call :func:`run`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shops.nearest.service import NearestFinder
from shops.nearest.store import ServicePointStore
from shops.offers.domain import CATALOGUE, Offer
from shops.offers.store import OfferStore, offer_to_doc
from shops.register.domain import Registry, Shop, ShopKind, ShopStatus
from shops.settings import ShopsSettings

from shared.metrics import ServiceMetrics
from shared.mongo import Mongo
from shared.places import Location, OpeningInterval

MILAN = (9.08, 45.40, 9.28, 45.54)  # west, south, east, north
SERVICE = "ritiro_pacchi"
HOURS_CHOICES = (
    [(d, "06:30", "13:00") for d in range(6)] + [(d, "15:00", "19:30") for d in range(6)],
    [(d, "08:00", "20:00") for d in range(7)],
    [(d, "18:00", "02:00") for d in (3, 4, 5)],
    [(d, "09:00", "12:30") for d in range(5)],
)


def _random_offer(rng: random.Random, number: int, now: datetime) -> tuple[Offer, Shop]:
    west, south, east, north = MILAN
    location = Location(lon=rng.uniform(west, east), lat=rng.uniform(south, north))
    registry = Registry(kind=ShopKind.KIOSK, name=f"Edicola {number}", location=location)
    shop = Shop.register(f"ed-bench-{number}", registry, ShopStatus.ACTIVE, now)
    service = SERVICE if number % 2 == 0 else rng.choice(CATALOGUE).code
    hours = tuple(OpeningInterval(day=d, opens=o, closes=c) for d, o, c in rng.choice(HOURS_CHOICES))
    offer = Offer.create(
        offer_id=f"sv-bench-{number}", shop=shop, code=service, hours=hours, note="", actor="bench", now=now
    )
    return offer, shop


def _rng(seed: int) -> random.Random:
    return random.Random(seed)


def _percentiles_ms(seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles([s * 1000 for s in seconds], n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3), "n": len(seconds)}


async def _timed_queries(
    finder: NearestFinder, rng: random.Random, count: int, limit: int
) -> tuple[list[float], list[int]]:
    west, south, east, north = MILAN
    monday = datetime(2026, 7, 6, tzinfo=UTC)
    timings, sizes = [], []
    for _ in range(count):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        at = monday + timedelta(minutes=rng.randrange(7 * 24 * 60))
        started = time.perf_counter()
        found = await finder.find(SERVICE, lon, lat, at, limit=limit, open_only=True)
        timings.append(time.perf_counter() - started)
        sizes.append(len(found))
    return timings, sizes


async def run(
    mongo_url: str | None = None,
    *,
    points: int = 10_000,
    index_queries: int = 2_000,
    database_queries: int = 40,
    limit: int = 10,
    seed: int = 2026,
) -> dict[str, Any]:
    """Load ``points`` offered services, time nearest-open queries both ways; return the figures."""
    overrides: dict[str, Any] = {"mongo_url": mongo_url} if mongo_url else {}
    # $geoNear scans the whole collection on the local server: seconds per query at 10,000 points
    settings = ShopsSettings(mongo_db=f"shops_bench_{uuid.uuid4().hex[:8]}", mongo_timeout_ms=30_000, **overrides)
    mongo = Mongo(settings)
    rng = _rng(seed)
    try:
        offers = OfferStore(mongo.db)
        await mongo.ensure_indexes(OfferStore.indexes)
        now = datetime.now(UTC)
        started = time.perf_counter()
        for first in range(0, points, 1_000):
            batch = [_random_offer(rng, n, now) for n in range(first, min(points, first + 1_000))]
            await offers.offers.insert_many([offer_to_doc(offer, shop.card()) for offer, shop in batch])
        load_s = time.perf_counter() - started
        points_store = ServicePointStore(mongo.db)
        indexed = NearestFinder(points_store, ServiceMetrics("shops_bench"), reload_interval_s=3600)
        started = time.perf_counter()
        await indexed.reload()
        index_load_s = time.perf_counter() - started
        unindexed = NearestFinder(points_store, ServiceMetrics("shops_bench"), reload_interval_s=3600)
        index_s, index_sizes = await _timed_queries(indexed, _rng(seed + 1), index_queries, limit)
        database_s, database_sizes = await _timed_queries(unindexed, _rng(seed + 1), database_queries, limit)
        if index_sizes[:database_queries] != database_sizes:
            raise AssertionError("the index and $geoNear returned different numbers of points")
        index, database = _percentiles_ms(index_s), _percentiles_ms(database_s)
        return {
            "points": points,
            "points_offering_the_service": (points + 1) // 2,
            "limit": limit,
            "insert_s": round(load_s, 2),
            "index_load_s": round(index_load_s, 3),
            "index": index,
            "geonear": database,
            "p50_speedup": round(database["p50_ms"] / index["p50_ms"], 1),
            "p99_speedup": round(database["p99_ms"] / index["p99_ms"], 1),
            "mean_results": round(statistics.fmean(index_sizes), 2),
        }
    finally:
        await mongo.client.drop_database(settings.database_name)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mongo-url", default=None, help="default: MONGO_URL or the local database")
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.mongo_url, points=args.points)), indent=2))


if __name__ == "__main__":
    main()
