"""How a rebuild job is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from districts.rebuild.domain import RebuildJob
from shared.web.public import Public


class RebuildJobPublic(Public[RebuildJob]):
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
