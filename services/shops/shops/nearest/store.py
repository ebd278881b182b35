"""Reads the offers collection as service points: every point for the index, or ``$geoNear``.

The documents are written by :mod:`shops.offers.store`, each with its shop's card and location.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date
from functools import lru_cache

from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document
from shops.closures.domain import Closure
from shops.closures.store import ClosureStore
from shops.nearest.domain import ServicePoint
from shops.offers.hours import WeeklyHours
from shops.offers.store import OFFERS
from shops.register.domain import ShopCard, ShopKind

# what an index point is made of: a load reads only these fields of every offer
POINT_FIELDS = {"service": 1, "shop_id": 1, "shop": 1, "location": 1, "hours": 1}


@lru_cache(maxsize=4096)
def _weekly(hours: tuple[tuple[int, str, str], ...]) -> WeeklyHours:
    """Timetables repeat (most kiosks keep the same few), so index points share one object each."""
    return WeeklyHours.of(hours)


def point_from_doc(doc: Document) -> ServicePoint:
    """An index point from a stored offer (validated when it was written)."""
    lon, lat = doc["location"]["coordinates"]
    shop = doc["shop"]
    card = ShopCard(doc["shop_id"], shop["name"], ShopKind(shop["kind"]), shop["address"], lon, lat, shop["active"])
    hours = _weekly(tuple((h["day"], h["opens"], h["closes"]) for h in doc["hours"]))
    return ServicePoint(doc["_id"], doc["service"], card, hours)


class ServicePointStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.offers = db[OFFERS]
        self.closure_store = ClosureStore(db)

    def closures(self) -> AsyncGenerator[Closure, None]:
        """Every closure, for the index's calendar."""
        return self.closure_store.every()

    async def closures_around(self, day: date) -> list[Closure]:
        """The closures covering ``day`` or the day before (for a search answered by the database)."""
        return await self.closure_store.covering(day)

    async def service_points(self) -> AsyncGenerator[ServicePoint, None]:
        """Every offer, as the nearest-point index holds it."""
        async for doc in self.offers.find({}, POINT_FIELDS):
            yield point_from_doc(doc)

    async def geo_near(self, code: str, lon: float, lat: float) -> AsyncGenerator[ServicePoint, None]:
        """Points offering ``code`` at active shops, closest first, by MongoDB ``$geoNear``."""
        pipeline: list[Document] = [
            {
                "$geoNear": {
                    "near": {"type": "Point", "coordinates": [lon, lat]},
                    "key": "location",
                    "distanceField": "distance_m",
                    "spherical": True,
                    "query": {"service": code, "shop.active": True},
                }
            }
        ]
        async with await self.offers.aggregate(pipeline, batchSize=100) as cursor:
            async for doc in cursor:
                yield point_from_doc(doc)
