"""The interventions' collection: the only module that knows it."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from districts.interventions.domain import Intervention
from shared.errors import Conflict
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, find_page, from_document, to_document

INTERVENTIONS = "interventions"


def _doc(intervention: Intervention) -> Document:
    return to_document(intervention, key="code")


def _intervention(doc: Document) -> Intervention:
    """A stored intervention (those stored before comparison groups existed have none)."""
    return from_document(Intervention, {"comparison": [], **doc}, key="code")


class InterventionStore:
    indexes: IndexSpec = {INTERVENTIONS: [IndexModel([("started_at", ASCENDING)], name="by_start")]}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def add(self, intervention: Intervention, session: AsyncClientSession | None) -> None:
        try:
            await self.db[INTERVENTIONS].insert_one(_doc(intervention), session=session)
        except DuplicateKeyError as exc:
            raise Conflict(
                Said(f"l'intervento {intervention.code!r} esiste già", f"intervention {intervention.code!r} exists")
            ) from exc

    async def get(self, code: str) -> Intervention | None:
        doc = await self.db[INTERVENTIONS].find_one({"_id": code})
        return None if doc is None else _intervention(doc)

    async def list(self, limit: int, offset: int) -> tuple[list[Intervention], int]:
        order = [("started_at", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.db[INTERVENTIONS], {}, order, _intervention, limit=limit, offset=offset)
