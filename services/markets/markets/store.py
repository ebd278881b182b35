"""MongoDB repository of the markets service: the only place that knows collections and indexes.

Every query is built here from typed values (never from a client's raw document), so nothing a
client sends can become a query operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from markets.calls import Application, Call, Criterion
from markets.domain import (
    Concession,
    HistoryEntry,
    Stall,
    StallCategory,
    StallStatus,
    number_order,
    stall_key,
)
from shared.errors import Conflict, PreconditionFailed
from shared.mongo import Document, IndexSpec

MARKETS, STALLS, HISTORY, CALLS, APPLICATIONS = "markets", "stalls", "stall_history", "calls", "applications"
Session = AsyncClientSession | None


def _stall_doc(stall: Stall) -> Document:
    concession = stall.concession
    return {
        "_id": stall.key,
        "market_id": stall.market_id,
        "number": stall.number,
        "order": number_order(stall.number),
        "area_m2": stall.area_m2,
        "category": stall.category.value,
        "status": stall.status.value,
        "version": stall.version,
        "updated_at": stall.updated_at,
        "concession": (
            {"holder": concession.holder, "start": concession.start.isoformat(), "end": concession.end.isoformat()}
            if concession
            else None
        ),
    }


def _stall(doc: Document) -> Stall:
    concession = doc.get("concession")
    return Stall(
        market_id=doc["market_id"],
        number=doc["number"],
        area_m2=doc["area_m2"],
        category=StallCategory(doc["category"]),
        status=StallStatus(doc["status"]),
        version=doc["version"],
        updated_at=doc["updated_at"],
        concession=(
            Concession(
                concession["holder"], date.fromisoformat(concession["start"]), date.fromisoformat(concession["end"])
            )
            if concession
            else None
        ),
    )


def _market(doc: Document) -> Document:
    record = dict(doc)
    record["id"] = record.pop("_id")
    return record


def _call_doc(call: Call) -> Document:
    return {
        "_id": call.id,
        "market_id": call.market_id,
        "title": call.title,
        "description": call.description,
        "stalls": list(call.stalls),
        "criteria": [
            {"name": c.name, "weight": c.weight, "max_points": c.max_points, "description": c.description}
            for c in call.criteria
        ],
        "categories": [c.value for c in call.categories],
        "deadline": call.deadline,
        "concession_years": call.concession_years,
        "created_at": call.created_at,
        "awarded_at": call.awarded_at,
        "result": None,
    }


def _call(doc: Document) -> Call:
    return Call(
        id=doc["_id"],
        market_id=doc["market_id"],
        title=doc["title"],
        description=doc["description"],
        stalls=tuple(doc["stalls"]),
        criteria=tuple(Criterion(**c) for c in doc["criteria"]),
        categories=tuple(StallCategory(c) for c in doc["categories"]),
        deadline=doc["deadline"],
        concession_years=doc["concession_years"],
        created_at=doc["created_at"],
        awarded_at=doc.get("awarded_at"),
    )


def _application(doc: Document) -> Application:
    return Application(
        call_id=doc["call_id"],
        applicant=doc["applicant"],
        holder=doc["holder"],
        category=StallCategory(doc["category"]),
        preferences=tuple(doc["preferences"]),
        scores=doc["scores"],
        submitted_at=doc["submitted_at"],
    )


class MarketStore:
    indexes: ClassVar[IndexSpec] = {
        MARKETS: [IndexModel([("name", ASCENDING)], name="by_name"), IndexModel([("municipio", ASCENDING)])],
        STALLS: [IndexModel([("market_id", ASCENDING), ("order", ASCENDING)], name="by_market")],
        HISTORY: [
            IndexModel([("stall", ASCENDING), ("version", DESCENDING)], name="stall_version", unique=True),
        ],
        CALLS: [IndexModel([("market_id", ASCENDING), ("created_at", DESCENDING)], name="by_market")],
        APPLICATIONS: [
            IndexModel([("call_id", ASCENDING), ("applicant", ASCENDING)], name="one_per_applicant", unique=True)
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.markets = db[MARKETS]
        self.stalls = db[STALLS]
        self.history = db[HISTORY]
        self.calls = db[CALLS]
        self.applications = db[APPLICATIONS]

    # markets ---------------------------------------------------------------------------------

    async def insert_market(self, record: Document, session: Session = None) -> None:
        doc = {k: v for k, v in record.items() if k != "id"}
        try:
            await self.markets.insert_one({"_id": record["id"], **doc}, session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"market {record['id']!r} already exists") from exc

    async def get_market(self, market_id: str, session: Session = None) -> Document | None:
        doc = await self.markets.find_one({"_id": market_id}, session=session)
        return _market(doc) if doc else None

    async def update_market(self, market_id: str, changes: Document, expected_version: int, session: Session) -> None:
        result = await self.markets.update_one(
            {"_id": market_id, "version": expected_version}, {"$set": changes}, session=session
        )
        if result.matched_count == 0:
            raise PreconditionFailed(f"market {market_id!r} changed meanwhile; read it again")

    async def list_markets(
        self, *, municipio: int | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[Document], int]:
        query: Document = {}
        if municipio is not None:
            query["municipio"] = municipio
        if active is not None:
            query["active"] = active
        total = await self.markets.count_documents(query)
        docs = (
            await self.markets.find(query)
            .sort([("name", ASCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
            .to_list()
        )
        return [_market(d) for d in docs], total

    # stalls ----------------------------------------------------------------------------------

    async def insert_stall(self, stall: Stall, session: Session) -> None:
        try:
            await self.stalls.insert_one(_stall_doc(stall), session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"stall {stall.number} already exists in market {stall.market_id!r}") from exc

    async def get_stall(self, market_id: str, number: str, session: Session = None) -> Stall | None:
        doc = await self.stalls.find_one({"_id": stall_key(market_id, number)}, session=session)
        return _stall(doc) if doc else None

    async def save_stall(self, stall: Stall, expected_version: int, session: Session) -> None:
        doc = _stall_doc(stall)
        del doc["_id"]
        result = await self.stalls.update_one(
            {"_id": stall.key, "version": expected_version}, {"$set": doc}, session=session
        )
        if result.matched_count == 0:
            raise PreconditionFailed(f"stall {stall.number} changed meanwhile; read it again")

    async def stalls_of(self, market_ids: Sequence[str], session: Session = None) -> list[Stall]:
        cursor = self.stalls.find({"market_id": {"$in": list(market_ids)}}, session=session)
        return [_stall(d) async for d in cursor.sort([("market_id", ASCENDING), ("order", ASCENDING)])]

    async def list_stalls(
        self,
        market_id: str,
        *,
        status: StallStatus | None,
        category: StallCategory | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Stall], int]:
        query: Document = {"market_id": market_id}
        if status is not None:
            query["status"] = status.value
        if category is not None:
            query["category"] = category.value
        total = await self.stalls.count_documents(query)
        cursor = self.stalls.find(query).sort("order", ASCENDING).skip(offset).limit(limit)
        return [_stall(d) async for d in cursor], total

    async def add_history(self, entry: HistoryEntry, session: Session) -> None:
        await self.history.insert_one(
            {
                "stall": stall_key(entry.market_id, entry.number),
                "version": entry.version,
                "at": entry.at,
                "from": entry.from_status.value if entry.from_status else None,
                "to": entry.to_status.value,
                "note": entry.note,
                "actor": entry.actor,
            },
            session=session,
        )

    async def history_of(self, market_id: str, number: str, *, limit: int, offset: int) -> tuple[list[Document], int]:
        query = {"stall": stall_key(market_id, number)}
        total = await self.history.count_documents(query)
        cursor = self.history.find(query, {"_id": 0, "stall": 0}).sort("version", DESCENDING).skip(offset).limit(limit)
        return await cursor.to_list(), total

    # calls -----------------------------------------------------------------------------------

    async def insert_call(self, call: Call, session: Session) -> None:
        await self.calls.insert_one(_call_doc(call), session=session)

    async def get_call(self, call_id: str, session: Session = None) -> tuple[Call, Document | None] | None:
        """The call and, once awarded, the ranking it was awarded with."""
        doc = await self.calls.find_one({"_id": call_id}, session=session)
        return (_call(doc), doc.get("result")) if doc else None

    async def list_calls(self, market_id: str, *, limit: int, offset: int) -> tuple[list[Call], int]:
        query = {"market_id": market_id}
        total = await self.calls.count_documents(query)
        cursor = self.calls.find(query).sort("created_at", DESCENDING).skip(offset).limit(limit)
        return [_call(d) async for d in cursor], total

    async def live_calls_with_stalls(self, market_id: str, numbers: Sequence[str], session: Session) -> list[Call]:
        """Calls of the market not yet awarded that include any of ``numbers``."""
        cursor = self.calls.find(
            {"market_id": market_id, "awarded_at": None, "stalls": {"$in": list(numbers)}}, session=session
        )
        return [_call(d) async for d in cursor]

    async def mark_awarded(self, call: Call, result: Document, session: Session) -> None:
        await self.calls.update_one(
            {"_id": call.id, "awarded_at": None},
            {"$set": {"awarded_at": call.awarded_at, "result": result}},
            session=session,
        )

    async def insert_application(self, application_id: str, application: Application, session: Session) -> None:
        try:
            await self.applications.insert_one(
                {
                    "_id": application_id,
                    "call_id": application.call_id,
                    "applicant": application.applicant,
                    "holder": application.holder,
                    "category": application.category.value,
                    "preferences": list(application.preferences),
                    "scores": dict(application.scores),
                    "submitted_at": application.submitted_at,
                },
                session=session,
            )
        except DuplicateKeyError as exc:
            raise Conflict(f"{application.applicant} has already applied to this call") from exc

    async def applications_to(self, call_id: str, session: Session = None) -> list[Application]:
        cursor = self.applications.find({"call_id": call_id}, session=session).sort("submitted_at", ASCENDING)
        return [_application(d) async for d in cursor]

    async def count_applications(self, call_ids: Sequence[str]) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": {"call_id": {"$in": list(call_ids)}}},
            {"$group": {"_id": "$call_id", "n": {"$sum": 1}}},
        ]
        return {d["_id"]: d["n"] async for d in await self.applications.aggregate(pipeline)}
