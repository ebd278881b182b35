"""Rebuild jobs: the only module that knows their collection."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from districts.rebuild.domain import RUNNING_STATES, RebuildJob
from shared.mongo import Document, IndexSpec, find_page

JOBS = "rebuild_jobs"
JOB_FIELDS = tuple(f.name for f in fields(RebuildJob))


def _job(doc: Document) -> RebuildJob:
    return RebuildJob(**{("id" if k == "_id" else k): v for k, v in doc.items() if k == "_id" or k in JOB_FIELDS})


class RebuildStore:
    indexes: IndexSpec = {JOBS: [IndexModel([("started_at", DESCENDING)], name="recent")]}

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def insert(self, job: RebuildJob) -> None:
        doc = asdict(job)
        await self.db[JOBS].insert_one({"_id": doc.pop("id"), **doc})

    async def job(self, job_id: str) -> RebuildJob | None:
        doc = await self.db[JOBS].find_one({"_id": job_id})
        return None if doc is None else _job(doc)

    async def page(self, limit: int, offset: int) -> tuple[list[RebuildJob], int]:
        """The jobs, newest first."""
        return await find_page(self.db[JOBS], {}, [("started_at", DESCENDING)], _job, limit=limit, offset=offset)

    async def building(self, generation: int) -> RebuildJob | None:
        """The running job building ``generation``, if any."""
        doc = await self.db[JOBS].find_one({"generation": generation, "state": {"$in": list(RUNNING_STATES)}})
        return None if doc is None else _job(doc)

    async def update(self, job_id: str, **changes: Any) -> None:
        await self.db[JOBS].update_one({"_id": job_id}, {"$set": changes})
