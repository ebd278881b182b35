"""The notices waiting to be sent, and what became of each (collection ``alert_notices``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gateway.notices.domain import DeliveryState, Notice
from shared.mongo import Document, IndexSpec

NOTICES = "alert_notices"


def _notice(doc: Document) -> Notice:
    values = {name: doc[name] for name in Notice.__dataclass_fields__ if name != "id"}
    return Notice(id=doc["_id"], **{**values, "recipients": tuple(values["recipients"])})


class NoticeStore:
    indexes: IndexSpec = {NOTICES: [IndexModel([("state", ASCENDING), ("lease_until", ASCENDING)], name="to_send")]}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.notices = db[NOTICES]

    async def add(self, notice: Notice, now: datetime, session: AsyncClientSession) -> None:
        doc = {**asdict(notice), "recipients": list(notice.recipients)}
        doc["_id"] = doc.pop("id")
        doc.update(state=DeliveryState.PENDING, created_at=now, lease_until=now, attempts=0)
        try:
            await self.notices.insert_one(doc, session=session)
        except DuplicateKeyError:
            pass  # the same event again: its notice is already there

    async def claim(self, now: datetime, lease_until: datetime) -> Notice | None:
        """A pending notice no one else is sending, leased to this process until ``lease_until``
        (a process that dies while sending leaves it to be sent again once the lease ends)."""
        doc = await self.notices.find_one_and_update(
            {"state": DeliveryState.PENDING, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until}, "$inc": {"attempts": 1}},
            sort=[("lease_until", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return _notice(doc) if doc else None

    async def finish(self, notice_id: str, state: str, outcomes: dict[str, str], now: datetime) -> None:
        await self.notices.update_one(
            {"_id": notice_id}, {"$set": {"state": state, "outcomes": outcomes, "finished_at": now}}
        )

    async def get(self, notice_id: str) -> Document | None:
        return await self.notices.find_one({"_id": notice_id})
