"""The interventions' wire contract: an intervention registered by the office."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.events import EventData


class InterventionTarget(BaseModel):
    type: str
    id: str


class InterventionRegistered(EventData):
    event_type = "districts.intervention.registered.v1"
    source = "/districts"
    code: str
    title: str
    kind: str
    target: InterventionTarget
    started_at: datetime
    comparison: list[str]
    at: datetime

    def subject(self) -> str:
        return self.code
