"""The NILs' reference snapshots (collection ``nil_baselines``): the only module that knows it."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from districts.mix.domain import Baseline
from shared.mongo import Document, IndexSpec, from_document, to_document

BASELINES = "nil_baselines"


class BaselineStore:
    indexes: IndexSpec = {BASELINES: []}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def put(self, baseline: Baseline) -> bool:
        """Store a NIL's snapshot; False when it was already the same."""
        doc = to_document(baseline, key="nil")
        answer = await self.db[BASELINES].replace_one({"_id": baseline.nil}, doc, upsert=True)
        return answer.upserted_id is not None or answer.modified_count > 0

    async def get(self, nil_id: int) -> Baseline | None:
        doc = await self.db[BASELINES].find_one({"_id": nil_id})
        return None if doc is None else from_document(Baseline, doc, key="nil")

    async def all(self) -> list[Baseline]:
        return [from_document(Baseline, doc, key="nil") async for doc in self.db[BASELINES].find().sort("_id")]
