"""MongoDB repository of shops and offered services: collections, indexes, queries.

``services`` documents carry a copy of their shop's card (name, kind, address, location, whether
it is active), kept in step in the same transaction as every shop change, so the nearest-point
search — ``$geoNear`` on the ``services`` 2dsphere index, or the in-process index loaded from
it — never needs a join.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pymongo import ASCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict
from shared.mongo import Document, IndexSpec
from shops.domain import (
    Location,
    Offer,
    RecognitionState,
    ServicePoint,
    Shop,
    ShopCard,
    ShopKind,
    ShopStatus,
)
from shops.hours import WeeklyHours

SHOPS = "shops"
OFFERS = "services"
# Spelled out because the server records it on the index: asking again without it at the next
# start would be refused as a different index with the same name (seen on the local server).
GEO_INDEX_VERSION = {"2dsphereIndexVersion": 3}
MAX_NIL_DIGITS = 3


@dataclass(frozen=True)
class ShopQuery:
    kind: ShopKind | None = None
    status: ShopStatus | None = None
    nil: str | None = None
    municipio: int | None = None
    q: str | None = None
    recognition: RecognitionState | None = None

    def filter(self) -> Document:
        """A MongoDB filter built from typed values only (no client-supplied operators)."""
        clauses: list[Document] = []
        if self.kind:
            clauses.append({"kind": self.kind.value})
        if self.status:
            clauses.append({"status": self.status.value})
        if self.municipio is not None:
            clauses.append({"municipio": self.municipio})
        if self.recognition:
            clauses.append({"recognition.state": self.recognition.value})
        if self.nil:
            nil = self.nil.strip()
            is_number = nil.isdigit() and len(nil) <= MAX_NIL_DIGITS
            clauses.append({"id_nil": int(nil)} if is_number else {"nil": _exactly(nil)})
        if self.q and self.q.strip():
            words = re.compile(re.escape(self.q.strip()), re.IGNORECASE)
            clauses.append({"$or": [{"name": words}, {"trade": words}]})
        return {"$and": clauses} if clauses else {}


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$", re.IGNORECASE)


def _point(location: Location) -> Document:
    return {"type": "Point", "coordinates": [location.lon, location.lat]}


def _location(point: Document) -> dict[str, float]:
    lon, lat = point["coordinates"]
    return {"lon": lon, "lat": lat}


def shop_to_doc(shop: Shop) -> Document:
    doc = shop.model_dump(exclude={"id"})
    doc["_id"] = shop.id
    doc["location"] = _point(shop.location)
    return doc


def shop_from_doc(doc: Document) -> Shop:
    fields = {k: v for k, v in doc.items() if k != "_id"}
    return Shop.model_validate({**fields, "id": doc["_id"], "location": _location(doc["location"])})


def _card_doc(card: ShopCard) -> Document:
    return {"name": card.name, "kind": card.kind.value, "address": card.address, "active": card.active}


def offer_to_doc(offer: Offer, shop: Shop) -> Document:
    """The offer with a copy of its shop's card and location, as ``$geoNear`` needs it."""
    doc: dict[str, Any] = offer.model_dump(exclude={"id"})
    doc.update(_id=offer.id, location=_point(shop.location), shop=_card_doc(shop.card()))
    return doc


def offer_from_doc(doc: Document) -> Offer:
    fields = {k: doc[k] for k in ("shop_id", "service", "hours", "note", "created_at", "created_by")}
    return Offer.model_validate({"id": doc["_id"], **fields})


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


class ShopStore:
    indexes: IndexSpec = {
        SHOPS: [
            IndexModel([("kind", ASCENDING), ("status", ASCENDING)], name="kind_status"),
            IndexModel([("id_nil", ASCENDING)], name="id_nil"),
            IndexModel([("municipio", ASCENDING)], name="municipio"),
            IndexModel([("recognition.state", ASCENDING)], name="recognition_state", sparse=True),
        ],
        OFFERS: [
            IndexModel([("location", GEOSPHERE)], name="location", **GEO_INDEX_VERSION),
            IndexModel([("shop_id", ASCENDING), ("service", ASCENDING)], name="one_per_shop", unique=True),
            IndexModel([("service", ASCENDING)], name="service"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.shops = db[SHOPS]
        self.offers = db[OFFERS]

    async def get(self, shop_id: str, session: AsyncClientSession | None = None) -> Shop | None:
        doc = await self.shops.find_one({"_id": shop_id}, session=session)
        return shop_from_doc(doc) if doc else None

    async def add(self, shop: Shop, session: AsyncClientSession) -> None:
        try:
            await self.shops.insert_one(shop_to_doc(shop), session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"shop {shop.id!r} already exists") from exc

    async def save(self, shop: Shop, *, expected_version: int, session: AsyncClientSession) -> None:
        result = await self.shops.replace_one(
            {"_id": shop.id, "version": expected_version}, shop_to_doc(shop), session=session
        )
        if result.matched_count != 1:
            raise Conflict(f"shop {shop.id!r} was changed concurrently; retry")

    async def search(self, query: ShopQuery, *, limit: int, offset: int) -> tuple[list[Shop], int]:
        selector = query.filter()
        docs = await self.shops.find(selector).sort("_id", ASCENDING).skip(offset).limit(limit).to_list()
        return [shop_from_doc(d) for d in docs], await self.shops.count_documents(selector)

    async def offers_of(self, shop_id: str, session: AsyncClientSession | None = None) -> list[Offer]:
        docs = await self.offers.find({"shop_id": shop_id}, session=session).sort("service", ASCENDING).to_list()
        return [offer_from_doc(d) for d in docs]

    async def get_offer(self, shop_id: str, offer_id: str, session: AsyncClientSession) -> Offer | None:
        doc = await self.offers.find_one({"_id": offer_id, "shop_id": shop_id}, session=session)
        return offer_from_doc(doc) if doc else None

    async def add_offer(self, offer: Offer, shop: Shop, session: AsyncClientSession) -> None:
        try:
            await self.offers.insert_one(offer_to_doc(offer, shop), session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"{shop.id!r} already offers {offer.service!r}; remove it first to change it") from exc

    async def remove_offer(self, offer_id: str, session: AsyncClientSession) -> None:
        await self.offers.delete_one({"_id": offer_id}, session=session)

    async def copy_card_into_offers(self, shop: Shop, session: AsyncClientSession) -> None:
        await self.offers.update_many(
            {"shop_id": shop.id},
            {"$set": {"location": _point(shop.location), "shop": _card_doc(shop.card())}},
            session=session,
        )

    async def service_points(self) -> AsyncGenerator[ServicePoint, None]:
        """Every offered service, as the nearest-point index holds it."""
        async for doc in self.offers.find({}):
            yield point_from_doc(doc)

    async def geo_near(self, service: str, lon: float, lat: float) -> AsyncGenerator[ServicePoint, None]:
        """Points offering ``service`` at active shops, closest first, by MongoDB ``$geoNear``."""
        pipeline: list[Document] = [
            {
                "$geoNear": {
                    "near": {"type": "Point", "coordinates": [lon, lat]},
                    "key": "location",
                    "distanceField": "distance_m",
                    "spherical": True,
                    "query": {"service": service, "shop.active": True},
                }
            }
        ]
        async with await self.offers.aggregate(pipeline, batchSize=100) as cursor:
            async for doc in cursor:
                yield point_from_doc(doc)
