"""Thresholds, open and past alerts, and the vitality highs they watch: the only module knowing their collections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from districts.alerts.domain import OPEN, RESOLVED, Alert, AlertEntry, AlertState, Thresholds
from shared.mongo import (
    Document,
    IndexSpec,
    Session,
    find_page,
    from_document,
    insert,
    replace,
    to_document,
    update,
    write,
)

THRESHOLDS, MONITORS, ALERTS = "thresholds", "monitors", "alerts"
Peaks = dict[str, float]


def _thresholds(doc: Document) -> Thresholds:
    return from_document(Thresholds, doc, key=None)


def _alert(doc: Document) -> Alert:
    return from_document(Alert, doc)


class AlertStore:
    indexes: IndexSpec = {
        THRESHOLDS: [],
        MONITORS: [],
        ALERTS: [
            IndexModel(
                [("district", ASCENDING), ("key", ASCENDING)],
                name="one_open_alert_per_condition",
                unique=True,
                partialFilterExpression={"state": OPEN},
            ),
            IndexModel([("district", ASCENDING), ("raised_at", DESCENDING)], name="by_district"),
            IndexModel([("state", ASCENDING)], name="by_state"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    # ------------------------------------------------------------ thresholds

    async def thresholds(self, code: str) -> Thresholds | None:
        doc = await self.db[THRESHOLDS].find_one({"_id": code})
        return None if doc is None else _thresholds(doc)

    async def thresholds_of(self, codes: Sequence[str], session: Session = None) -> dict[str, Thresholds]:
        cursor = self.db[THRESHOLDS].find({"_id": {"$in": list(codes)}}, session=session)
        return {doc["_id"]: _thresholds(doc) async for doc in cursor}

    async def save_thresholds(self, code: str, thresholds: Thresholds) -> None:
        await self.db[THRESHOLDS].replace_one(
            {"_id": code}, {"_id": code, **to_document(thresholds, key=None)}, upsert=True
        )

    # ------------------------------------------------------------ vitality highs

    async def peaks(self, codes: Iterable[str], session: Session) -> dict[str, Peaks]:
        cursor = self.db[MONITORS].find({"_id": {"$in": sorted(codes)}}, session=session)
        return {doc["_id"]: doc.get("peaks", {}) async for doc in cursor}

    async def save_peaks(self, code: str, peaks: Peaks, session: Session) -> None:
        await write([replace(self.db[MONITORS], {"_id": code}, {"_id": code, "peaks": peaks}, upsert=True)], session)

    # ------------------------------------------------------------ alerts

    async def open_alerts(self, codes: Iterable[str] | None, session: Session = None) -> list[Alert]:
        query: Document = {"state": OPEN}
        if codes is not None:
            query["district"] = {"$in": sorted(codes)}
        cursor = self.db[ALERTS].find(query, session=session).sort("raised_at", DESCENDING)
        return [_alert(doc) async for doc in cursor]

    async def insert_alert(self, alert: Alert, session: Session) -> None:
        await write([insert(self.db[ALERTS], to_document(alert))], session)

    async def resolve_alert(self, alert_id: str, entry: AlertEntry, session: Session) -> None:
        resolve = update(
            self.db[ALERTS],
            {"_id": alert_id, "state": OPEN},
            {"$set": {"state": RESOLVED, "resolved_at": entry.at}, "$push": {"history": asdict(entry)}},
        )
        await write([resolve], session)

    async def acknowledge(self, code: str, alert_id: str, who: str, at: datetime) -> Alert | None:
        """Record the first acknowledgement of ``code``'s alert (a later one changes nothing); None if
        the district has no such alert."""
        doc = await self.db[ALERTS].find_one_and_update(
            {"_id": alert_id, "district": code, "acknowledged_at": None},
            {"$set": {"acknowledged_by": who, "acknowledged_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        return _alert(doc) if doc else await self.alert(code, alert_id)

    async def alert(self, code: str, alert_id: str) -> Alert | None:
        doc = await self.db[ALERTS].find_one({"_id": alert_id, "district": code})
        return _alert(doc) if doc else None

    async def alerts(self, code: str, state: AlertState | None, limit: int, offset: int) -> tuple[list[Alert], int]:
        query: Document = {"district": code}
        if state is not None:
            query["state"] = state
        return await find_page(self.db[ALERTS], query, [("raised_at", DESCENDING)], _alert, limit=limit, offset=offset)
