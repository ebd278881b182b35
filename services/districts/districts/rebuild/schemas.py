"""How a rebuild job is shown."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from districts.rebuild.domain import RebuildJob


class RebuildJobPublic(BaseModel):
    id: str
    state: Literal["running", "switching", "done", "failed"]
    generation: int
    previous_generation: int
    requested_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    events_total: int | None
    events_replayed: int
    progress: float
    error: str | None

    @classmethod
    def of(cls, job: RebuildJob) -> RebuildJobPublic:
        return cls.model_validate(asdict(job))
