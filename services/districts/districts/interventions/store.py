"""The interventions' collection: the only module that knows it."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from districts.interventions.domain import Intervention, Kind, Target, TargetType
from shared.errors import Conflict
from shared.mongo import Document, IndexSpec, find_page

INTERVENTIONS = "interventions"


def _doc(intervention: Intervention) -> Document:
    return {
        "_id": intervention.code,
        "title": intervention.title,
        "kind": intervention.kind.value,
        "target": {"type": intervention.target.type.value, "id": intervention.target.id},
        "started_at": intervention.started_at,
        "comparison": list(intervention.comparison),
        "created_at": intervention.created_at,
    }


def _intervention(doc: Document) -> Intervention:
    return Intervention(
        code=doc["_id"],
        title=doc["title"],
        kind=Kind(doc["kind"]),
        target=Target(TargetType(doc["target"]["type"]), doc["target"]["id"]),
        started_at=doc["started_at"],
        comparison=tuple(doc.get("comparison", ())),
        created_at=doc["created_at"],
    )


class InterventionStore:
    indexes: IndexSpec = {INTERVENTIONS: [IndexModel([("started_at", ASCENDING)], name="by_start")]}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def add(self, intervention: Intervention, session: AsyncClientSession | None) -> None:
        try:
            await self.db[INTERVENTIONS].insert_one(_doc(intervention), session=session)
        except DuplicateKeyError as exc:
            raise Conflict(f"intervention {intervention.code!r} exists") from exc

    async def get(self, code: str) -> Intervention | None:
        doc = await self.db[INTERVENTIONS].find_one({"_id": code})
        return None if doc is None else _intervention(doc)

    async def list(self, limit: int, offset: int) -> tuple[list[Intervention], int]:
        order = [("started_at", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.db[INTERVENTIONS], {}, order, _intervention, limit=limit, offset=offset)
