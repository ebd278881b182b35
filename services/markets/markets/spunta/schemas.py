"""What the spunta routes accept and return (``XCreate`` / ``XPublic``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from markets.spunta.domain import Candidate, SpuntaResult, Standing
from markets.stalls.schemas import StallNumber, Strict, Username, distinct
from shared.web.public import Public


class CandidateCreate(Strict):
    trader: Username = Field(description="the trader's account (username) present that day")


class CandidatePublic(BaseModel):
    market_id: str
    date: date
    trader: str
    registered_at: datetime
    registered_by: str

    @classmethod
    def of(cls, candidate: Candidate) -> CandidatePublic:
        return cls.model_validate({**asdict(candidate), "date": candidate.day})


class SpuntaAssign(Strict):
    absent: Annotated[list[StallNumber], AfterValidator(distinct)] = Field(
        default_factory=list, max_length=500, description="assigned stalls whose holder the operator marks absent"
    )


class SpuntaStallPublic(BaseModel):
    trader: str
    stall: str


class SpuntaPublic(BaseModel):
    market_id: str
    date: date
    assignments: list[SpuntaStallPublic]
    unassigned: list[str] = Field(description="traders present for whom no stall was left")
    offered: list[str] = Field(description="stalls offered: free ones and those of absent holders")
    assigned_at: datetime
    actor: str

    @classmethod
    def of(cls, result: SpuntaResult) -> SpuntaPublic:
        return cls.model_validate({**asdict(result), "date": result.day})


class StandingPublic(Public[Standing]):
    trader: str
    presences: int
