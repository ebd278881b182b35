"""What the assignment routes accept and what a stall shows of its concession."""

from __future__ import annotations

from datetime import date

from pydantic import model_validator

from markets.concessions.domain import Concession
from markets.stalls.domain import StallCategory
from markets.stalls.schemas import Strict, Text


class AssignmentCreate(Strict):
    """A holder for the stall, the use it will have and the concession's period."""

    holder: Text
    category: StallCategory
    start: date
    end: date

    @model_validator(mode="after")
    def _ends_after_start(self) -> AssignmentCreate:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def concession(self) -> Concession:
        return Concession(self.holder, self.start, self.end)
