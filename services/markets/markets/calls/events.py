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


class CallEvent(EventData):
    """An event about one call; its subject is the call's id."""

    source = SOURCE

    call_id: str

    def subject(self) -> str:
        return self.call_id


class ApplicationEvent(CallEvent):
    """An event about one application to a call; its subject is the application's id."""

    application_id: str

    def subject(self) -> str:
        return self.application_id


class CallPublished(CallEvent):
    """The office opened a call for free stalls of a market."""

    event_type = "markets.call.published.v1"

    market_id: str
    title: str
    stalls: list[str]
    categories: list[str]
    criteria: list[PublishedCriterion]
    deadline: datetime
    concession_years: int
    actor: str
    at: datetime


class ApplicationSubmitted(ApplicationEvent):
    """A trader applied to a call (or the office filed it for them); declared facts only, no score."""

    event_type = "markets.call.application_submitted.v1"

    applicant: str
    holder: str
    category: str
    preferences: list[str]
    documents: int = Field(description="how many documents the application cites")
    filed_by: str
    at: datetime


class CallAwarded(CallEvent):
    event_type = "markets.call.awarded.v1"

    market_id: str
    awarded: list[AwardedStall]
    skipped: list[SkippedApplication]
    actor: str
    at: datetime


class ApplicationEvaluated(ApplicationEvent):
    """The committee scored an application (again, when ``revision`` > 1; the latest counts)."""

    event_type = "markets.call.application_evaluated.v1"

    revision: int
    scores: dict[str, float]
    reasons: dict[str, str]
    score: float
    evaluator: str
    at: datetime


PUBLISHED: tuple[type[EventData], ...] = (CallPublished, ApplicationSubmitted, ApplicationEvaluated, CallAwarded)
