"""The wire contract of calls on ``markets.events``: an application was evaluated, a call was awarded."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from markets.stalls.events import SOURCE
from shared.events import EventData


class AwardedStall(BaseModel):
    number: str
    applicant: str
    score: float


class SkippedApplication(BaseModel):
    applicant: str
    reason: str = Field(description="why the application got no stall, in English")
    reason_it: str = Field(description="the same in Italian")


class PublishedCriterion(BaseModel):
    name: str
    weight: float
    max_points: float


class CallPublished(EventData):
    """The office opened a call for free stalls of a market."""

    event_type = "markets.call.published.v1"
    source = SOURCE

    call_id: str
    market_id: str
    title: str
    stalls: list[str]
    categories: list[str]
    criteria: list[PublishedCriterion]
    deadline: datetime
    concession_years: int
    actor: str
    at: datetime

    def subject(self) -> str:
        return self.call_id


class ApplicationSubmitted(EventData):
    """A trader applied to a call (or the office filed it for them); declared facts only, no score."""

    event_type = "markets.call.application_submitted.v1"
    source = SOURCE

    call_id: str
    application_id: str
    applicant: str
    holder: str
    category: str
    preferences: list[str]
    documents: int = Field(description="how many documents the application cites")
    filed_by: str
    at: datetime

    def subject(self) -> str:
        return self.application_id


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


class ApplicationEvaluated(EventData):
    """The committee scored an application (again, when ``revision`` > 1; the latest counts)."""

    event_type = "markets.call.application_evaluated.v1"
    source = SOURCE

    call_id: str
    application_id: str
    revision: int
    scores: dict[str, float]
    reasons: dict[str, str]
    score: float
    evaluator: str
    at: datetime

    def subject(self) -> str:
        return self.application_id


PUBLISHED: tuple[type[EventData], ...] = (CallPublished, ApplicationSubmitted, ApplicationEvaluated, CallAwarded)
