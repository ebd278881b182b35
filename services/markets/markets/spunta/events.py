"""The wire contract of the spunta on ``markets.events``: a market day's stalls were assigned."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from markets.stalls.events import SOURCE
from shared.events import EventData


class SpuntaStall(BaseModel):
    trader: str
    stall: str


class SpuntaAssigned(EventData):
    event_type = "markets.spunta.assigned.v1"
    source = SOURCE

    market_id: str
    date: date
    assignments: list[SpuntaStall]
    unassigned: list[str]
    offered: list[str]
    actor: str
    at: datetime

    def subject(self) -> str:
        return f"{self.market_id}/{self.date.isoformat()}"


PUBLISHED: tuple[type[EventData], ...] = (SpuntaAssigned,)
