"""MongoDB repository of closures: the ``closures`` collection and its indexes (days stored as ISO text)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document, IndexSpec, from_document, to_document
from shops.closures.domain import Closure
from shops.register.store import ShopItems

CLOSURES = "closures"


# the days are stored as "from" and "to" (the API's words)
STORED_AS = {"first": "from", "last": "to"}


def closure_to_doc(closure: Closure) -> Document:
    return to_document(closure, stored_as=STORED_AS)


def closure_from_doc(doc: Document) -> Closure:
    return from_document(Closure, doc, stored_as=STORED_AS)


class ClosureStore(ShopItems[Closure]):
    indexes: IndexSpec = {
        CLOSURES: [
            IndexModel([("shop_id", ASCENDING), ("from", ASCENDING)], name="shop_from"),
            IndexModel([("to", ASCENDING)], name="to"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.closures = db[CLOSURES]
        super().__init__(self.closures, closure_from_doc, order="from")

    async def add(self, closure: Closure, session: AsyncClientSession) -> None:
        await self.closures.insert_one(closure_to_doc(closure), session=session)

    async def every(self) -> AsyncGenerator[Closure, None]:
        """Every closure, for the nearest-point search's calendar."""
        async for doc in self.closures.find({}):
            yield closure_from_doc(doc)

    async def covering(self, day: date) -> list[Closure]:
        """The closures covering ``day`` or the day before (an evening that opened then may run into it)."""
        text = day.isoformat()
        docs = await self.closures.find({"from": {"$lte": text}, "to": {"$gte": _day_before(day)}}).to_list()
        return [closure_from_doc(d) for d in docs]


def _day_before(day: date) -> str:
    return date.fromordinal(day.toordinal() - 1).isoformat()
