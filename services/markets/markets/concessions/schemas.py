"""What the assignment and concession routes accept and what they answer."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, ValidationInfo, field_validator

from markets.concessions.domain import Concession, ConcessionRecord, ConcessionState
from markets.stalls.domain import StallCategory
from markets.stalls.schemas import Strict, Text, Username
from shared.i18n import Said
from shared.web.public import Public


class AssignmentCreate(Strict):
    """A holder for the stall, the use it will have and the concession's period."""

    holder: Text
    category: StallCategory
    start: date
    end: date
    trader: Username | None = Field(default=None, description="the trader's account holding the concession, if any")

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(Said("la fine deve venire dopo l'inizio (start)", "end must be after start"))
        return end

    def concession(self) -> Concession:
        return Concession(self.holder, self.start, self.end, self.trader)


class ConcessionRenewal(Strict):
    end: date = Field(description="the new last day of the concession, after the current one")


class ConcessionRevocation(Strict):
    reason: str = Field(min_length=1, max_length=1000, description="why the office revokes it")


class ConcessionTransfer(Strict):
    trader: Username = Field(description="the account of the trader taking the concession over")
    holder: Text | None = Field(default=None, description="the business that holds it from now (unchanged if left out)")


class ConcessionRecordPublic(Public[ConcessionRecord]):
    id: str
    market_id: str
    number: str = Field(description="the stall's number")
    holder: str
    trader: str | None
    start: date
    end: date = Field(description="the last day of the concession; it expires when the next day begins (Milan time)")
    state: ConcessionState
    version: int
    granted_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    reason: str = Field(description="why it was revoked (empty otherwise)")
