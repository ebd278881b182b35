"""Where markets, their stalls and the stalls' history are kept (MongoDB).

The only module that knows these collections and their indexes. Every query is built here from
typed values (never from a client's raw document), so nothing a client sends can become a query
operator. Reads return domain objects; a missing market or stall is :class:`NotFound`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from markets.stalls.domain import (
    HistoryEntry,
    Market,
    MarketQuery,
    Stall,
    StallQuery,
    StallStatus,
    number_order,
    stall_key,
)
from shared import mongo
from shared.errors import NotFound, PreconditionFailed
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, Session, find_page, from_document, overwrite_if, to_document

MARKETS, STALLS, HISTORY = "markets", "stalls", "stall_history"


def _history_doc(entry: HistoryEntry) -> Document:
    return {
        "stall": stall_key(entry.market_id, entry.number),
        "version": entry.version,
        "at": entry.at,
        "from": entry.from_status.value if entry.from_status else None,
        "to": entry.to_status.value,
        "note": entry.note,
        "actor": entry.actor,
    }


def _market(doc: Document) -> Market:
    """A stored market (those stored before ``created_at`` existed count from their last change)."""
    return from_document(Market, {**doc, "created_at": doc.get("created_at") or doc["updated_at"]})


def _stall_doc(stall: Stall) -> Document:
    return {"_id": stall.key, **to_document(stall, key=None), "order": number_order(stall.number)}


def _stall(doc: Document) -> Stall:
    return from_document(Stall, doc, key=None)


def _history_entry(market_id: str, number: str, doc: Document) -> HistoryEntry:
    return HistoryEntry(
        market_id=market_id,
        number=number,
        version=doc["version"],
        at=doc["at"],
        from_status=StallStatus(doc["from"]) if doc["from"] else None,
        to_status=StallStatus(doc["to"]),
        note=doc["note"],
        actor=doc["actor"],
    )


def changed_meanwhile(stall: Stall) -> Said:
    return Said(
        f"il banco {stall.number} è stato modificato nel frattempo; rileggilo",
        f"stall {stall.number} changed meanwhile; read it again",
    )


class MarketStore:
    indexes: ClassVar[IndexSpec] = {
        MARKETS: [IndexModel([("name", ASCENDING)], name="by_name"), IndexModel([("municipio", ASCENDING)])],
        STALLS: [IndexModel([("market_id", ASCENDING), ("order", ASCENDING)], name="by_market")],
        HISTORY: [
            IndexModel([("stall", ASCENDING), ("version", DESCENDING)], name="stall_version", unique=True),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.markets = db[MARKETS]
        self.stalls = db[STALLS]
        self.history = db[HISTORY]

    # markets ---------------------------------------------------------------------------------

    async def insert_market(self, market: Market, session: Session) -> None:
        taken = Said(f"il mercato {market.id!r} esiste già", f"market {market.id!r} already exists")
        await mongo.insert_new(self.markets, to_document(market), taken, session)

    async def get_market(self, market_id: str, session: Session = None) -> Market:
        missing = Said(f"non esiste il mercato {market_id!r}", f"no market {market_id!r}")
        doc = await mongo.find_existing(self.markets, {"_id": market_id}, missing, session)
        return _market(doc)

    async def save_market(self, market: Market, expected_version: int, session: Session) -> None:
        guard = {"version": expected_version}
        if not await overwrite_if(self.markets, to_document(market), guard, keep={"created_at"}, session=session):
            raise PreconditionFailed(
                Said(
                    f"il mercato {market.id!r} è stato modificato nel frattempo; rileggilo",
                    f"market {market.id!r} changed meanwhile; read it again",
                )
            )

    async def list_markets(self, wanted: MarketQuery, *, limit: int, offset: int) -> tuple[list[Market], int]:
        query: Document = {}
        if wanted.municipio is not None:
            query["municipio"] = wanted.municipio
        if wanted.active is not None:
            query["active"] = wanted.active
        order = [("name", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.markets, query, order, _market, limit=limit, offset=offset)

    # stalls ----------------------------------------------------------------------------------

    async def insert_stall(self, stall: Stall, session: Session) -> None:
        taken = Said(
            f"il banco {stall.number} esiste già nel mercato {stall.market_id!r}",
            f"stall {stall.number} already exists in market {stall.market_id!r}",
        )
        await mongo.insert_new(self.stalls, _stall_doc(stall), taken, session)

    async def get_stall(self, market_id: str, number: str, session: Session = None) -> Stall:
        doc = await self.stalls.find_one({"_id": stall_key(market_id, number)}, session=session)
        if doc is None:
            await self.get_market(market_id, session)
            raise NotFound(
                Said(
                    f"il mercato {market_id!r} non ha il banco {number!r}",
                    f"no stall {number!r} in market {market_id!r}",
                )
            )
        return _stall(doc)

    async def save_change(self, before: Stall, after: Stall, note: str, actor: str, session: Session) -> None:
        """Save a stall as ``after`` (guarded by the version it was read at) with its history line, in
        one write to the server with the transaction's other queued writes (:func:`shared.mongo.write`)."""
        await mongo.write(
            [
                mongo.overwrite(self.stalls, _stall_doc(after), {"version": before.version}),
                mongo.insert(self.history, _history_doc(HistoryEntry.of(before, after, note, actor))),
            ],
            session,
            unmatched=PreconditionFailed(changed_meanwhile(after)),
        )

    async def stalls_held_without_record(self, limit: int) -> list[Stall]:
        """Stalls assigned before concessions had records: held under a concession without an id."""
        cursor = self.stalls.find({"concession.holder": {"$exists": True}, "concession.id": None}).limit(limit)
        return [_stall(d) async for d in cursor]

    async def record_concession(self, stall: Stall, session: Session) -> None:
        """Give the concession the stall is held under its record's id (the stall's state is unchanged)."""
        assert stall.concession is not None and stall.concession.id is not None
        result = await self.stalls.update_one(
            {"_id": stall.key, "version": stall.version, "concession.id": None},
            {"$set": {"concession.id": stall.concession.id, "concession.trader": stall.concession.trader}},
            session=session,
        )
        if result.matched_count == 0:
            raise PreconditionFailed(changed_meanwhile(stall))

    async def stalls_of(self, market_ids: Sequence[str], session: Session = None) -> list[Stall]:
        """Every stall of the markets, market by market in natural number order."""
        cursor = self.stalls.find({"market_id": {"$in": list(market_ids)}}, session=session)
        return [_stall(d) async for d in cursor.sort([("market_id", ASCENDING), ("order", ASCENDING)])]

    async def list_stalls(
        self, market_id: str, wanted: StallQuery, *, limit: int, offset: int
    ) -> tuple[list[Stall], int]:
        query: Document = {"market_id": market_id}
        if wanted.status is not None:
            query["status"] = wanted.status.value
        if wanted.category is not None:
            query["category"] = wanted.category.value
        return await find_page(self.stalls, query, [("order", ASCENDING)], _stall, limit=limit, offset=offset)

    # history ---------------------------------------------------------------------------------

    async def add_history(self, entry: HistoryEntry, session: Session) -> None:
        await self.history.insert_one(_history_doc(entry), session=session)

    async def history_of(
        self, market_id: str, number: str, *, limit: int, offset: int
    ) -> tuple[list[HistoryEntry], int]:
        query = {"stall": stall_key(market_id, number)}
        return await find_page(
            self.history,
            query,
            [("version", DESCENDING)],
            lambda d: _history_entry(market_id, number, d),
            limit=limit,
            offset=offset,
        )

    def _of_market(self, market_id: str) -> Document:
        return {"$regex": f"^{re.escape(market_id)}/"}

    async def statuses_at(self, market_id: str, moment: datetime, session: Session = None) -> dict[str, StallStatus]:
        """Each stall's status at ``moment``, from its history (stalls created later are absent)."""
        pipeline: list[Document] = [
            {"$match": {"stall": self._of_market(market_id), "at": {"$lt": moment}}},
            {"$sort": {"stall": ASCENDING, "version": ASCENDING}},
            {"$group": {"_id": "$stall", "to": {"$last": "$to"}}},
        ]
        prefix = len(market_id) + 1
        return {
            d["_id"][prefix:]: StallStatus(d["to"])
            async for d in await self.history.aggregate(pipeline, session=session)
        }

    async def changes_between(
        self, market_id: str, since: datetime, until: datetime, session: Session = None
    ) -> list[HistoryEntry]:
        """The history lines of the market's stalls from ``since`` up to ``until`` (inclusive), oldest first."""
        query = {"stall": self._of_market(market_id), "at": {"$gte": since, "$lte": until}}
        prefix = len(market_id) + 1
        cursor = self.history.find(query, session=session).sort("at", ASCENDING)
        return [_history_entry(market_id, d["stall"][prefix:], d) async for d in cursor]
