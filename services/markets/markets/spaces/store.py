"""Where a market's spaces and their bookings are kept (MongoDB).

The only module that knows these collections and their indexes. Booking a space first writes the
space's document (:meth:`SpaceStore.lock`) in the booking's transaction, so two bookings of one
space at the same moment conflict: one transaction commits, the other is re-run and then sees the
booking that won.
"""

from __future__ import annotations

from typing import ClassVar

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from markets.spaces.domain import Booking, BookingQuery, Space
from shared import mongo
from shared.errors import Conflict
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, Session, find_page, from_document, to_document

SPACES, BOOKINGS = "spaces", "space_bookings"


def _booking(doc: Document) -> Booking:
    return from_document(Booking, doc)


class SpaceStore:
    indexes: ClassVar[IndexSpec] = {
        SPACES: [IndexModel([("market_id", ASCENDING), ("code", ASCENDING)], name="by_market")],
        BOOKINGS: [
            IndexModel([("market_id", ASCENDING), ("space", ASCENDING), ("starts_at", ASCENDING)], name="by_space"),
            IndexModel([("market_id", ASCENDING), ("public", ASCENDING), ("starts_at", ASCENDING)], name="agenda"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.spaces = db[SPACES]
        self.bookings = db[BOOKINGS]

    async def insert_space(self, space: Space, session: Session) -> None:
        taken = Said(
            f"il mercato {space.market_id!r} ha già uno spazio {space.code!r}",
            f"market {space.market_id!r} already has a space {space.code!r}",
        )
        await mongo.insert_new(
            self.spaces, {"_id": space.key, **to_document(space, key=None), "bookings": 0}, taken, session
        )

    async def get_space(self, market_id: str, code: str, session: Session = None) -> Space:
        missing = Said(
            f"il mercato {market_id!r} non ha lo spazio {code!r}",
            f"no space {code!r} in market {market_id!r}",
        )
        doc = await mongo.find_existing(self.spaces, {"_id": f"{market_id}/{code}"}, missing, session)
        return from_document(Space, doc, key=None)

    async def spaces_of(self, market_id: str) -> list[Space]:
        cursor = self.spaces.find({"market_id": market_id}).sort("code", ASCENDING)
        return [from_document(Space, d, key=None) async for d in cursor]

    async def lock(self, space: Space, session: Session) -> None:
        """Write the space's document, so concurrent bookings of the space conflict (see the module)."""
        await self.spaces.update_one({"_id": space.key}, {"$inc": {"bookings": 1}}, session=session)

    async def live_overlapping(self, booking: Booking, session: Session) -> list[Booking]:
        """The space's bookings not cancelled whose period overlaps ``booking``'s, earliest first."""
        query = {
            "market_id": booking.market_id,
            "space": booking.space,
            "cancelled_at": None,
            "starts_at": {"$lt": booking.ends_at},
            "ends_at": {"$gt": booking.starts_at},
        }
        cursor = self.bookings.find(query, session=session).sort("starts_at", ASCENDING)
        return [_booking(d) async for d in cursor]

    async def insert_booking(self, booking: Booking, session: Session) -> None:
        await self.bookings.insert_one(to_document(booking), session=session)

    async def get_booking(self, market_id: str, code: str, booking_id: str, session: Session = None) -> Booking:
        missing = Said(
            f"lo spazio {code!r} non ha la prenotazione {booking_id!r}",
            f"no booking {booking_id!r} of space {code!r}",
        )
        doc = await mongo.find_existing(
            self.bookings, {"_id": booking_id, "market_id": market_id, "space": code}, missing, session
        )
        return _booking(doc)

    async def save_cancelled(self, booking: Booking, session: Session) -> None:
        found = await self.bookings.update_one(
            {"_id": booking.id, "cancelled_at": None},
            {"$set": {"cancelled_at": booking.cancelled_at, "cancelled_by": booking.cancelled_by}},
            session=session,
        )
        if found.matched_count == 0:
            raise Conflict(
                Said(
                    f"la prenotazione {booking.id} è stata annullata nel frattempo",
                    f"booking {booking.id} was cancelled meanwhile",
                )
            )

    async def list_bookings(
        self, market_id: str, which: BookingQuery, *, limit: int, offset: int
    ) -> tuple[list[Booking], int]:
        """A page of the live bookings ``which`` asks for, earliest first."""
        query: Document = {"market_id": market_id, "cancelled_at": None}
        if which.space is not None:
            query["space"] = which.space
        if which.public_only:
            query["public"] = True
        if which.since is not None:
            query["ends_at"] = {"$gt": which.since}
        if which.until is not None:
            query["starts_at"] = {"$lt": which.until}
        order = [("starts_at", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.bookings, query, order, _booking, limit=limit, offset=offset)
