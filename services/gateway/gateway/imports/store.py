"""Import jobs and their uploaded files in the gateway's database: the only module that knows
the ``import_jobs`` collection and the ``import_files`` GridFS bucket (the file of job ``x`` has id ``x``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gridfs.asynchronous.grid_file import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from gateway.imports.domain import UNFINISHED, ImportJob, JobState
from shared.i18n import DEFAULT_LANGUAGE
from shared.mongo import Document, IndexSpec, find_page, from_document, to_document

JOBS = "import_jobs"
BUCKET = "import_files"
FILES, CHUNKS = f"{BUCKET}.files", f"{BUCKET}.chunks"


def _job(doc: Document) -> ImportJob:
    return from_document(ImportJob, doc)


def _encode(changes: dict[str, Any]) -> dict[str, Any]:
    encoded = dict(changes)
    if "state" in encoded:
        encoded["state"] = JobState(encoded["state"]).value
    if "rejected" in encoded:
        encoded["rejected"] = [{"line": r.line, "reason": r.reason} for r in encoded["rejected"]]
    return encoded


class ImportStore:
    indexes: IndexSpec = {
        JOBS: [
            IndexModel([("submitted_at", DESCENDING)], name="recent"),
            IndexModel([("state", ASCENDING), ("heartbeat_at", ASCENDING)], name="unfinished"),
        ],
        # the two indexes GridFS itself asks for (same keys), made before the gateway serves
        FILES: [IndexModel([("filename", ASCENDING), ("uploadDate", ASCENDING)], name="filename_1_uploadDate_1")],
        CHUNKS: [IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], name="files_id_1_n_1", unique=True)],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.jobs = db[JOBS]
        self.files = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def add(self, job: ImportJob, content: bytes) -> None:
        """The uploaded file, then its job (a job is never listed without its file)."""
        await self.files.upload_from_stream_with_id(job.id, job.file, content, metadata={"actor": job.actor})
        await self.jobs.insert_one(to_document(job))

    async def get(self, job_id: str) -> ImportJob | None:
        doc = await self.jobs.find_one({"_id": job_id})
        return None if doc is None else _job(doc)

    async def page(self, limit: int, offset: int) -> tuple[list[ImportJob], int]:
        return await find_page(
            self.jobs, {}, [("submitted_at", DESCENDING), ("_id", ASCENDING)], _job, limit=limit, offset=offset
        )

    async def update(self, job_id: str, **changes: Any) -> None:
        await self.jobs.update_one({"_id": job_id}, {"$set": _encode(changes)})

    async def finish(self, job_id: str, state: JobState, finished_at: datetime, **changes: Any) -> ImportJob | None:
        """End an unfinished job (a job already finished stays as it is); the job as it ended, or None."""
        doc = await self.jobs.find_one_and_update(
            {"_id": job_id, "state": {"$in": [s.value for s in UNFINISHED]}},
            {"$set": _encode({**changes, "state": state, "finished_at": finished_at})},
            return_document=True,
        )
        return None if doc is None else _job(doc)

    async def beat(self, job_ids: list[str], now: datetime) -> None:
        if job_ids:
            await self.jobs.update_many(
                {"_id": {"$in": job_ids}, "state": {"$in": [s.value for s in UNFINISHED]}},
                {"$set": {"heartbeat_at": now}},
            )

    async def stale(self, beaten_before: datetime) -> list[tuple[str, str]]:
        """Unfinished jobs whose gateway stopped beating for them: their ids and languages."""
        query = {"state": {"$in": [s.value for s in UNFINISHED]}, "heartbeat_at": {"$lt": beaten_before}}
        found = self.jobs.find(query, {"_id": 1, "language": 1})
        return [(doc["_id"], doc.get("language") or DEFAULT_LANGUAGE) async for doc in found]
