"""What the calls routes accept and return (``XCreate`` / ``XPublic``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from markets.calls.domain import (
    TIE_BREAK,
    Application,
    CallOverview,
    CallRanking,
    CallStatus,
    Criterion,
    Outcome,
    ScoredEvaluation,
)
from markets.stalls.domain import StallCategory
from markets.stalls.schemas import StallNumber, Strict, SurfacePublic, Text, Username, distinct

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


DOCUMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
Criterion_ = Annotated[str, Field(pattern=CRITERION)]
DeclaredValue = Annotated[str, Field(max_length=1000)] | bool | Annotated[float, Field(allow_inf_nan=False)]


class ApplicationCreate(Strict):
    """What an applicant declares. Scores and ranks are the committee's: a body that sets them is refused."""

    holder: Text = Field(description="the business that will hold the stall")
    category: StallCategory
    trader: Username | None = Field(
        default=None,
        description="the trader's account applying: required when the office files on a trader's behalf; "
        "a trader leaves it out or names themself",
    )
    stalls: Annotated[list[StallNumber], AfterValidator(distinct)] = Field(
        default_factory=list, max_length=200, description="preferred stalls, best first; empty = any"
    )
    offer: str = Field(default="", max_length=5000, description="what the applicant offers, in their words")
    declarations: dict[Criterion_, DeclaredValue] = Field(
        default_factory=dict, max_length=30, description="facts the applicant declares (e.g. years_trading: 12)"
    )
    documents: Annotated[list[Annotated[str, Field(pattern=DOCUMENT_ID)]], AfterValidator(distinct)] = Field(
        default_factory=list, max_length=30, description="ids of the documents attached"
    )


class ApplicationPublic(BaseModel):
    id: str
    call_id: str
    applicant: str
    holder: str
    category: StallCategory
    stalls: list[str]
    offer: str
    declarations: dict[str, str | bool | float]
    documents: list[str]
    submitted_at: datetime
    filed_by: str = Field(description="the account that filed it: the trader, or the office on their behalf")

    @classmethod
    def of(cls, application: Application) -> ApplicationPublic:
        return cls.model_validate(
            {**asdict(application), "stalls": application.preferences, "filed_by": application.filer}
        )


class EvaluationCreate(Strict):
    """The committee's evaluation of one application: a score and a reason for every criterion of the call."""

    application: str = Field(min_length=1, max_length=100, description="the application's number")
    scores: dict[Criterion_, Annotated[float, Field(allow_inf_nan=False)]] = Field(max_length=12)
    reasons: dict[Criterion_, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(max_length=12)


class EvaluationPublic(BaseModel):
    application: str
    call_id: str
    revision: int = Field(description="1 for the first evaluation of the application; the latest counts")
    scores: dict[str, float]
    reasons: dict[str, str]
    score: float = Field(description="the weighted score, 0 to 100")
    evaluator: str
    at: datetime

    @classmethod
    def of(cls, scored: ScoredEvaluation) -> EvaluationPublic:
        evaluation = scored.evaluation
        return cls.model_validate(
            {**asdict(evaluation), "application": evaluation.application_id, "score": scored.score}
        )


class EvaluationHistoryPublic(BaseModel):
    application: str
    latest: EvaluationPublic
    history: list[EvaluationPublic] = Field(description="every evaluation of the application, oldest first")

    @classmethod
    def of(cls, history: list[ScoredEvaluation]) -> EvaluationHistoryPublic:
        items = [EvaluationPublic.of(e) for e in history]
        return cls(application=items[-1].application, latest=items[-1], history=items)


class ScoreLinePublic(BaseModel):
    criterion: str
    value: float
    max_points: float
    weight: float
    points: float
    reason: str = Field(default="", description="the committee's reason for the score")


class RankingEntryPublic(BaseModel):
    rank: int
    application: str = Field(description="the application's number")
    applicant: str | None = Field(description="the account that applied; the commerce office's eyes only")
    holder: str | None = Field(description="the business applying; the commerce office's eyes only")
    category: StallCategory
    score: float
    breakdown: list[ScoreLinePublic]
    outcome: Outcome
    stall: str | None
    reason: str = Field(description="the place, the stall or why none, in the language asked for")


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
    unscored: list[str] = Field(description="applications the committee has not scored yet (not ranked)")

    @classmethod
    def of(cls, standing: CallRanking, *, names: bool, language: str) -> RankingPublic:
        """The ranking, its words in ``language``; with ``names`` false (anyone but the office) no account or
        business is named."""
        ranking = standing.ranking
        hidden = {} if names else {"applicant": None, "holder": None}
        return cls.model_validate(
            {
                "call_id": standing.call.id,
                "market_id": standing.call.market_id,
                "status": standing.status,
                "provisional": standing.provisional,
                "tie_break": TIE_BREAK.in_(language),
                "unavailable_stalls": ranking.unavailable_stalls,
                "surface_before": SurfacePublic.of(ranking.surface_before),
                "surface_after": SurfacePublic.of(ranking.surface_after),
                "items": [
                    {**asdict(entry), "reason": entry.reason.in_(language), **hidden} for entry in ranking.entries
                ],
                "unscored": standing.unscored,
            }
        )
