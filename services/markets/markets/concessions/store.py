"""Where the concessions' records are kept (MongoDB): one document per concession, its whole life.

The only module that knows this collection and its indexes. A record changes only through
:meth:`ConcessionStore.save`, guarded by the version it was read at and by its being still active,
so of two writers (two replicas expiring the same concession, the office renewing one that is
expiring) exactly one changes it; the other gets :class:`PreconditionFailed` or re-reads.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from markets.concessions.domain import ConcessionQuery, ConcessionRecord, ConcessionState
from shared import mongo
from shared.errors import PreconditionFailed
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, Session, find_page, from_document, overwrite_if, to_document

CONCESSIONS = "concessions"


def _record(doc: Document) -> ConcessionRecord:
    return from_document(ConcessionRecord, doc)


class ConcessionStore:
    indexes: ClassVar[IndexSpec] = {
        CONCESSIONS: [
            IndexModel([("market_id", ASCENDING), ("end", ASCENDING)], name="by_market_end"),
            IndexModel([("state", ASCENDING), ("end", ASCENDING)], name="by_state_end"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.concessions = db[CONCESSIONS]

    async def insert(self, record: ConcessionRecord, session: Session) -> None:
        await self.concessions.insert_one(to_document(record), session=session)

    async def get(self, concession_id: str, session: Session = None) -> ConcessionRecord:
        missing = Said(f"non esiste la concessione {concession_id!r}", f"no concession {concession_id!r}")
        doc = await mongo.find_existing(self.concessions, {"_id": concession_id}, missing, session)
        return _record(doc)

    async def save(self, record: ConcessionRecord, expected_version: int, session: Session) -> None:
        """Write the changed record if it is still active at ``expected_version``; else PreconditionFailed."""
        guard = {"version": expected_version, "state": ConcessionState.ACTIVE.value}
        if not await overwrite_if(self.concessions, to_document(record), guard, keep={"granted_at"}, session=session):
            raise PreconditionFailed(
                Said(
                    f"la concessione {record.id} è stata modificata nel frattempo; rileggila",
                    f"concession {record.id} changed meanwhile; read it again",
                )
            )

    async def list(
        self, wanted: ConcessionQuery, today: date, *, limit: int, offset: int
    ) -> tuple[list[ConcessionRecord], int]:
        """A page of concessions, those ending first first."""
        query: Document = {}
        if wanted.market_id is not None:
            query["market_id"] = wanted.market_id
        if wanted.state is not None:
            query["state"] = wanted.state.value
        ending_by = wanted.ending_by(today)
        if ending_by is not None:
            query["state"] = ConcessionState.ACTIVE.value
            query["end"] = {"$lte": ending_by.isoformat()}
        order = [("end", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.concessions, query, order, _record, limit=limit, offset=offset)

    async def due(self, today: date, limit: int) -> list[str]:
        """Ids of active concessions whose end lies before ``today``, those ended first first."""
        cursor = (
            self.concessions.find(
                {"state": ConcessionState.ACTIVE.value, "end": {"$lt": today.isoformat()}}, projection={"_id": 1}
            )
            .sort([("end", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [d["_id"] async for d in cursor]
