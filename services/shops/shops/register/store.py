"""MongoDB repository of the shop register: the ``shops`` collection, its indexes and queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.errors import Conflict
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, find_page, from_document, to_document
from shared.places import Location
from shops.register.domain import (
    REGISTRY_FIELDS,
    Recognition,
    Shop,
    ShopKind,
    ShopQuery,
    ShopStatus,
    Source,
)

SHOPS = "shops"
MAX_NIL_DIGITS = 3


def query_filter(query: ShopQuery) -> Document:
    """A MongoDB filter built from typed values only (no client-supplied operators)."""
    clauses: list[Document] = []
    if query.kind:
        clauses.append({"kind": query.kind.value})
    if query.status:
        clauses.append({"status": query.status.value})
    if query.municipio is not None:
        clauses.append({"municipio": query.municipio})
    if query.recognition:
        clauses.append({"recognition.state": query.recognition.value})
    if query.nil:
        nil = query.nil.strip()
        is_number = nil.isdigit() and len(nil) <= MAX_NIL_DIGITS
        clauses.append({"id_nil": int(nil)} if is_number else {"nil": _exactly(nil)})
    if query.q and query.q.strip():
        words = re.compile(re.escape(query.q.strip()), re.IGNORECASE)
        clauses.append({"$or": [{"name": words}, {"trade": words}]})
    return {"$and": clauses} if clauses else {}


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$", re.IGNORECASE)


def geojson_point(location: Location) -> Document:
    return {"type": "Point", "coordinates": [location.lon, location.lat]}


def shop_to_doc(shop: Shop) -> Document:
    return {**to_document(shop), "location": geojson_point(shop.location)}


def _recognition(doc: Document | None) -> Recognition | None:
    return None if doc is None else from_document(Recognition, doc, key=None)


def shop_from_doc(doc: Document) -> Shop:
    lon, lat = doc["location"]["coordinates"]
    stated: dict[str, Any] = {name: doc.get(name) for name in REGISTRY_FIELDS if name in doc}
    source = doc.get("source")
    stated.update(
        kind=ShopKind(doc["kind"]),
        location=Location(lon=lon, lat=lat),
        source=Source(dataset=source["dataset"], record=source["record"]) if source else None,
    )
    return Shop(
        id=doc["_id"],
        status=ShopStatus(doc["status"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        status_changed_at=doc.get("status_changed_at"),
        status_note=doc.get("status_note"),
        historic_recognised_at=doc.get("historic_recognised_at"),
        recognition=_recognition(doc.get("recognition")),
        version=doc.get("version", 1),
        **stated,
    )


class ShopStore:
    indexes: IndexSpec = {
        SHOPS: [
            IndexModel([("kind", ASCENDING), ("status", ASCENDING)], name="kind_status"),
            IndexModel([("id_nil", ASCENDING)], name="id_nil"),
            IndexModel([("municipio", ASCENDING)], name="municipio"),
            IndexModel([("recognition.state", ASCENDING)], name="recognition_state", sparse=True),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.shops = db[SHOPS]

    async def get(self, shop_id: str, session: AsyncClientSession | None = None) -> Shop | None:
        doc = await self.shops.find_one({"_id": shop_id}, session=session)
        return shop_from_doc(doc) if doc else None

    async def existing(self, shop_id: str, session: AsyncClientSession | None = None) -> Shop:
        """The shop; 404 when there is none."""
        missing = Said(it=f"nessun negozio {shop_id!r}", en=f"no shop {shop_id!r}")
        return shop_from_doc(await mongo.find_existing(self.shops, {"_id": shop_id}, missing, session))

    async def add(self, shop: Shop, session: AsyncClientSession) -> None:
        taken = Said(it=f"il negozio {shop.id!r} esiste già", en=f"shop {shop.id!r} already exists")
        await mongo.insert_new(self.shops, shop_to_doc(shop), taken, session)

    async def save(self, shop: Shop, *, expected_version: int, session: AsyncClientSession) -> None:
        result = await self.shops.replace_one(
            {"_id": shop.id, "version": expected_version}, shop_to_doc(shop), session=session
        )
        if result.matched_count != 1:
            raise Conflict(
                Said(
                    it=f"il negozio {shop.id!r} è stato cambiato nel frattempo; riprova",
                    en=f"shop {shop.id!r} was changed concurrently; retry",
                )
            )

    async def search(self, query: ShopQuery, *, limit: int, offset: int) -> tuple[list[Shop], int]:
        selector = query_filter(query)
        return await find_page(self.shops, selector, [("_id", ASCENDING)], shop_from_doc, limit=limit, offset=offset)


T = TypeVar("T")


class ShopItems(Generic[T]):
    """A collection whose documents each belong to one shop (``shop_id``: its offers, its closures):
    a shop's items in ``order``, one item read or removed by its id."""

    def __init__(self, collection: AsyncCollection[Document], read: Callable[[Document], T], order: str) -> None:
        self.collection = collection
        self._read = read
        self._order = order

    async def of_shop(self, shop_id: str, session: AsyncClientSession | None = None) -> list[T]:
        docs = await self.collection.find({"shop_id": shop_id}, session=session).sort(self._order, ASCENDING).to_list()
        return [self._read(d) for d in docs]

    async def get(self, shop_id: str, item_id: str, session: AsyncClientSession) -> T | None:
        """The shop's item ``item_id``; None when there is none, or it belongs to another shop."""
        doc = await self.collection.find_one({"_id": item_id, "shop_id": shop_id}, session=session)
        return self._read(doc) if doc else None

    async def remove(self, item_id: str, session: AsyncClientSession) -> None:
        await self.collection.delete_one({"_id": item_id}, session=session)
