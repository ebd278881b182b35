"""Where the spunta is kept (MongoDB): market days, the traders present, presences.

The only module that knows these collections. A market day's document is written by every
registration and by the assignment, so a registration racing the assignment, or two assignments
of the same day, meet on it and one of them re-runs and sees the other's result.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from markets.spunta.domain import Assignment, Candidate, MarketDay, SpuntaResult, Standing
from shared.mongo import Document, IndexSpec, Session

DAYS, CANDIDATES, PRESENCES = "spunta_days", "spunta_candidates", "spunta_presences"


def _result_doc(result: SpuntaResult) -> Document:
    return {
        "assignments": [{"trader": a.trader, "stall": a.stall} for a in result.assignments],
        "unassigned": list(result.unassigned),
        "offered": list(result.offered),
        "assigned_at": result.assigned_at,
        "actor": result.actor,
    }


def _result(market_id: str, day: date, doc: Document) -> SpuntaResult:
    return SpuntaResult(
        market_id=market_id,
        day=day,
        assignments=tuple(Assignment(a["trader"], a["stall"]) for a in doc["assignments"]),
        unassigned=tuple(doc["unassigned"]),
        offered=tuple(doc["offered"]),
        assigned_at=doc["assigned_at"],
        actor=doc["actor"],
    )


def _candidate(doc: Document) -> Candidate:
    return Candidate(
        market_id=doc["market_id"],
        day=date.fromisoformat(doc["date"]),
        trader=doc["trader"],
        registered_at=doc["registered_at"],
        registered_by=doc["registered_by"],
    )


class SpuntaStore:
    indexes: ClassVar[IndexSpec] = {
        DAYS: [IndexModel([("market_id", ASCENDING), ("date", ASCENDING)], name="by_market")],
        CANDIDATES: [
            IndexModel([("market_id", ASCENDING), ("date", ASCENDING), ("registered_at", ASCENDING)], name="by_day")
        ],
        PRESENCES: [
            IndexModel([("market_id", ASCENDING), ("trader", ASCENDING), ("date", ASCENDING)], name="by_trader")
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.days = db[DAYS]
        self.candidates = db[CANDIDATES]
        self.presences = db[PRESENCES]

    async def touch_day(self, market_day: MarketDay, session: Session) -> SpuntaResult | None:
        """Write the day's document (creating it), so concurrent writers of the day meet; its result."""
        doc = await self.days.find_one_and_update(
            {"_id": market_day.key},
            {
                "$setOnInsert": {"market_id": market_day.market_id, "date": market_day.day.isoformat(), "result": None},
                "$inc": {"writes": 1},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert doc is not None
        return _result(market_day.market_id, market_day.day, doc["result"]) if doc.get("result") else None

    async def get_result(self, market_day: MarketDay) -> SpuntaResult | None:
        doc = await self.days.find_one({"_id": market_day.key})
        return _result(market_day.market_id, market_day.day, doc["result"]) if doc and doc.get("result") else None

    async def save_result(self, market_day: MarketDay, result: SpuntaResult, session: Session) -> None:
        await self.days.update_one({"_id": market_day.key}, {"$set": {"result": _result_doc(result)}}, session=session)
        if result.present:
            await self.presences.insert_many(
                [
                    {
                        "_id": f"{market_day.key}/{trader}",
                        "market_id": result.market_id,
                        "trader": trader,
                        "date": result.day.isoformat(),
                    }
                    for trader in result.present
                ],
                session=session,
            )

    async def find_candidate(self, market_day: MarketDay, trader: str, session: Session) -> Candidate | None:
        doc = await self.candidates.find_one({"_id": f"{market_day.key}/{trader}"}, session=session)
        return _candidate(doc) if doc else None

    async def add_candidate(self, candidate: Candidate, session: Session) -> None:
        await self.candidates.insert_one(
            {
                "_id": f"{candidate.market_id}/{candidate.day.isoformat()}/{candidate.trader}",
                "market_id": candidate.market_id,
                "date": candidate.day.isoformat(),
                "trader": candidate.trader,
                "registered_at": candidate.registered_at,
                "registered_by": candidate.registered_by,
            },
            session=session,
        )

    async def candidates_of(self, market_day: MarketDay, session: Session = None) -> list[Candidate]:
        query = {"market_id": market_day.market_id, "date": market_day.day.isoformat()}
        cursor = self.candidates.find(query, session=session).sort("registered_at", ASCENDING)
        return [_candidate(d) async for d in cursor]

    async def presences_before(self, market_day: MarketDay, traders: list[str], session: Session) -> dict[str, int]:
        """Each trader's presences at the market's spunta on days before this one."""
        pipeline: list[Document] = [
            {
                "$match": {
                    "market_id": market_day.market_id,
                    "trader": {"$in": traders},
                    "date": {"$lt": market_day.day.isoformat()},
                }
            },
            {"$group": {"_id": "$trader", "n": {"$sum": 1}}},
        ]
        return {d["_id"]: d["n"] async for d in await self.presences.aggregate(pipeline, session=session)}

    async def standings(self, market_id: str, *, limit: int, offset: int) -> tuple[list[Standing], int]:
        """Presences per trader at the market, most first (ties by name)."""
        pipeline: list[Document] = [
            {"$match": {"market_id": market_id}},
            {"$group": {"_id": "$trader", "n": {"$sum": 1}}},
            {"$sort": {"n": DESCENDING, "_id": ASCENDING}},
            {"$facet": {"total": [{"$count": "n"}], "page": [{"$skip": offset}, {"$limit": limit}]}},
        ]
        out = (await (await self.presences.aggregate(pipeline)).to_list(1))[0]
        total = out["total"][0]["n"] if out["total"] else 0
        return [Standing(d["_id"], d["n"]) for d in out["page"]], total
