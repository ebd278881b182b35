"""MongoDB repository of offers: the ``services`` collection (named by the public API), its indexes.

Each offer document carries a copy of its shop's card (name, kind, address, location, whether it
is active), kept in step in the same transaction as every shop change, so the nearest-point search
(``$geoNear`` on the 2dsphere index, or the in-process index loaded from it) never needs a join.
"""

from __future__ import annotations

from pymongo import ASCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.errors import Conflict
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, from_document, to_document
from shops.offers.domain import Offer
from shops.register.domain import ShopCard
from shops.register.store import ShopItems

OFFERS = "services"
# Spelled out because the server records it on the index: asking again without it at the next
# start would be refused as a different index with the same name (seen on the local server).
GEO_INDEX_VERSION = {"2dsphereIndexVersion": 3}


def card_fields(card: ShopCard) -> Document:
    """The shop's card as an offer document holds it: ``location`` (GeoJSON) and ``shop``."""
    return {
        "location": {"type": "Point", "coordinates": [card.lon, card.lat]},
        "shop": {"name": card.name, "kind": card.kind.value, "address": card.address, "active": card.active},
    }


# an offer's catalogue code is stored as "service" (the API's word)
STORED_AS = {"code": "service"}


def offer_to_doc(offer: Offer, card: ShopCard) -> Document:
    return {**to_document(offer, stored_as=STORED_AS), **card_fields(card)}


def offer_from_doc(doc: Document) -> Offer:
    return from_document(Offer, doc, stored_as=STORED_AS)


class OfferStore(ShopItems[Offer]):
    indexes: IndexSpec = {
        OFFERS: [
            IndexModel([("location", GEOSPHERE)], name="location", **GEO_INDEX_VERSION),
            IndexModel([("shop_id", ASCENDING), ("service", ASCENDING)], name="one_per_shop", unique=True),
            IndexModel([("service", ASCENDING)], name="service"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.offers = db[OFFERS]
        super().__init__(self.offers, offer_from_doc, order="service")

    async def add(self, offer: Offer, card: ShopCard, session: AsyncClientSession) -> None:
        taken = Said(
            it=f"{offer.shop_id!r} offre già {offer.code!r}; toglilo prima per cambiarlo",
            en=f"{offer.shop_id!r} already offers {offer.code!r}; remove it first to change it",
        )
        await mongo.insert_new(self.offers, offer_to_doc(offer, card), taken, session)

    async def save(self, offer: Offer, *, expected_version: int, session: AsyncClientSession) -> None:
        """New hours and note, if the offer still has the version that was read."""
        changes = {
            "hours": [{"day": h.day, "opens": h.opens, "closes": h.closes} for h in offer.hours],
            "note": offer.note,
            "version": offer.version,
            "updated_at": offer.updated_at,
        }
        result = await self.offers.update_one(
            {
                "_id": offer.id,
                "version": {"$in": [expected_version, None]} if expected_version == 1 else expected_version,
            },
            {"$set": changes},
            session=session,
        )
        if result.matched_count != 1:
            raise Conflict(
                Said(
                    it=f"il servizio {offer.id!r} è stato cambiato nel frattempo; riprova",
                    en=f"service {offer.id!r} was changed concurrently; retry",
                )
            )

    async def copy_card(self, card: ShopCard, session: AsyncClientSession) -> None:
        await self.offers.update_many({"shop_id": card.shop_id}, {"$set": card_fields(card)}, session=session)
