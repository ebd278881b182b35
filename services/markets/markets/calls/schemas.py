"""What the calls routes accept and return (``XCreate`` / ``XPublic``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from markets.calls.domain import TIE_BREAK, CallOverview, CallRanking, CallStatus, Criterion, Outcome, Submission
from markets.stalls.domain import StallCategory
from markets.stalls.schemas import StallNumber, Strict, SurfacePublic, Text, distinct

CRITERION = r"^[a-z][a-z0-9_]{0,39}$"


class CriterionFields(Strict):
    name: str = Field(pattern=CRITERION, description="e.g. offer, social_value, innovation, experience")
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)
    max_points: float = Field(default=100, gt=0, le=1_000_000, allow_inf_nan=False)
    description: str = Field(default="", max_length=500)


def _distinct_names(criteria: list[CriterionFields]) -> list[CriterionFields]:
    distinct([c.name for c in criteria])
    return criteria


class CallCreate(Strict):
    title: Text
    description: str = Field(default="", max_length=5000)
    stalls: Annotated[list[StallNumber], AfterValidator(distinct)] = Field(min_length=1, max_length=200)
    criteria: Annotated[list[CriterionFields], AfterValidator(_distinct_names)] = Field(min_length=1, max_length=12)
    categories: Annotated[list[StallCategory], AfterValidator(distinct)] = Field(
        default_factory=list, description="uses the call is open to; empty = any"
    )
    deadline: AwareDatetime
    concession_years: int = Field(default=20, ge=1, le=30)

    def published_criteria(self) -> tuple[Criterion, ...]:
        return tuple(Criterion(c.name, c.weight, c.max_points, c.description) for c in self.criteria)


class CallPublic(BaseModel):
    id: str
    market_id: str
    title: str
    description: str
    stalls: list[str]
    criteria: list[CriterionFields]
    categories: list[StallCategory]
    deadline: datetime
    concession_years: int
    status: CallStatus
    applications: int
    created_at: datetime
    awarded_at: datetime | None

    @classmethod
    def of(cls, overview: CallOverview) -> CallPublic:
        return cls.model_validate(
            {**asdict(overview.call), "status": overview.status, "applications": overview.applications}
        )


class ApplicationCreate(Strict):
    holder: Text = Field(description="the business that will hold the stall")
    category: StallCategory
    stalls: Annotated[list[StallNumber], AfterValidator(distinct)] = Field(
        default_factory=list, max_length=200, description="preferred stalls, best first; empty = any"
    )
    scores: dict[Annotated[str, Field(pattern=CRITERION)], Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        max_length=12, description="the value of each criterion of the call"
    )


class ApplicationPublic(BaseModel):
    id: str
    call_id: str
    applicant: str
    holder: str
    category: StallCategory
    stalls: list[str]
    scores: dict[str, float]
    score: float
    submitted_at: datetime

    @classmethod
    def of(cls, submission: Submission) -> ApplicationPublic:
        application = submission.application
        return cls.model_validate(
            {
                **asdict(application),
                "id": submission.id,
                "stalls": application.preferences,
                "score": submission.score,
            }
        )


class ScoreLinePublic(BaseModel):
    criterion: str
    value: float
    max_points: float
    weight: float
    points: float


class RankingEntryPublic(BaseModel):
    rank: int
    applicant: str
    holder: str
    category: StallCategory
    score: float
    breakdown: list[ScoreLinePublic]
    outcome: Outcome
    stall: str | None
    reason: str


class RankingPublic(BaseModel):
    call_id: str
    market_id: str
    status: CallStatus
    provisional: bool = Field(description="true until the call is awarded")
    tie_break: str
    unavailable_stalls: list[str] = Field(description="stalls of the call no longer free")
    surface_before: SurfacePublic
    surface_after: SurfacePublic
    items: list[RankingEntryPublic]

    @classmethod
    def of(cls, standing: CallRanking) -> RankingPublic:
        ranking = standing.ranking
        return cls.model_validate(
            {
                "call_id": standing.call.id,
                "market_id": standing.call.market_id,
                "status": standing.status,
                "provisional": standing.provisional,
                "tie_break": TIE_BREAK,
                "unavailable_stalls": ranking.unavailable_stalls,
                "surface_before": SurfacePublic.of(ranking.surface_before),
                "surface_after": SurfacePublic.of(ranking.surface_after),
                "items": [asdict(entry) for entry in ranking.entries],
            }
        )
