"""Response bodies of the import routes (shapes in docs/api.md, "Imports")."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gateway.imports.domain import REJECTED_KEPT, ImportJob, JobState

IMPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class RejectedRowPublic(BaseModel):
    line: int = Field(description="The row's line in the file (the header is line 1; a GeoJSON feature's position)")
    reason: str


class OutcomesPublic(BaseModel):
    created: int
    updated: int
    unchanged: int


class ImportJobPublic(BaseModel):
    id: str
    file: str = Field(description="The uploaded file's name")
    size: int = Field(description="Its size in bytes")
    importer: str = Field(description="The importer that recognised it (markets, historic-shops, kiosks, nil, …)")
    description: str = Field(description="What that importer reads")
    state: JobState = Field(description="queued, running, done, failed or interrupted")
    rows_total: int | None = Field(description="The file's rows, once counted (null while queued)")
    rows_done: int = Field(description="Rows loaded or rejected so far")
    outcomes: OutcomesPublic
    rejected_count: int
    rejected: list[RejectedRowPublic] = Field(description=f"The first {REJECTED_KEPT} rejected rows, by line")
    actor: str = Field(description="Who uploaded the file")
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = Field(description="Why a failed or interrupted job stopped")

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobPublic:
        return cls(
            id=job.id,
            file=job.file,
            size=job.size,
            importer=job.importer,
            description=job.description,
            state=job.state,
            rows_total=job.rows_total,
            rows_done=job.rows_done,
            outcomes=OutcomesPublic(created=job.created, updated=job.updated, unchanged=job.unchanged),
            rejected_count=job.rejected_count,
            rejected=[RejectedRowPublic(line=r.line, reason=r.reason) for r in job.rejected],
            actor=job.actor,
            submitted_at=job.submitted_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
        )
