"""A rebuild job: replaying the topics into a fresh generation, and how far it got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

JobState = Literal["running", "switching", "done", "failed"]
RUNNING_STATES: tuple[JobState, ...] = ("running", "switching")


@dataclass(frozen=True)
class RebuildJob:
    id: str
    state: JobState
    generation: int
    previous_generation: int
    requested_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None = None
    events_total: int | None = None
    events_replayed: int = 0
    progress: float = 0.0
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def stale(self, beaten_before: datetime) -> bool:
        """Running, but its last heartbeat is older than ``beaten_before``: its process died."""
        return self.running and self.heartbeat_at < beaten_before
