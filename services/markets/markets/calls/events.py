"""The wire contract of calls on ``markets.events``: a call was awarded."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from markets.stalls.events import SOURCE
from shared.events import EventData


class AwardedStall(BaseModel):
    number: str
    applicant: str
    score: float


class SkippedApplication(BaseModel):
    applicant: str
    reason: str


class CallAwarded(EventData):
    event_type = "markets.call.awarded.v1"
    source = SOURCE

    call_id: str
    market_id: str
    awarded: list[AwardedStall]
    skipped: list[SkippedApplication]
    actor: str
    at: datetime

    def subject(self) -> str:
        return self.call_id


PUBLISHED: tuple[type[EventData], ...] = (CallAwarded,)
