"""Calls (*bandi*) for vacant stalls: published criteria, weighted scores, a reproducible ranking.

Pure: no I/O. Each criterion has a weight and a maximum; an application's score is the weighted
mean of its values scaled to 0 to 100. Applications are ranked by score; equal scores go to the earlier
application, then to the applicant name, so the same applications always give the same ranking.
Walking down the ranking, each application takes its first preferred stall still free; a
food-service application whose stall would push the market over the 1/5 food-service cap tries
its next preference and is skipped, with the reason, when none fits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from markets.stalls.domain import Stall, StallCategory, Surface
from shared.errors import Conflict, InvalidInput

TIE_BREAK = "higher score first; on equal scores the earlier application, then the applicant name in alphabetical order"
SCORE_DECIMALS = 4


class CallStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    AWARDED = "awarded"


class Outcome(StrEnum):
    AWARDED = "awarded"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float
    max_points: float
    description: str = ""


@dataclass(frozen=True)
class Application:
    call_id: str
    applicant: str
    holder: str
    category: StallCategory
    preferences: tuple[str, ...]
    scores: Mapping[str, float]
    submitted_at: datetime


@dataclass(frozen=True)
class Call:
    id: str
    market_id: str
    title: str
    description: str
    stalls: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    categories: tuple[StallCategory, ...]
    deadline: datetime
    concession_years: int
    created_at: datetime
    awarded_at: datetime | None = None

    def status(self, now: datetime) -> CallStatus:
        if self.awarded_at is not None:
            return CallStatus.AWARDED
        return CallStatus.OPEN if now < self.deadline else CallStatus.CLOSED

    def check_application(self, application: Application, now: datetime) -> None:
        """Refuse an application the call cannot take (closed, or not matching what it published)."""
        status = self.status(now)
        if status is not CallStatus.OPEN:
            raise Conflict(f"the call is {status}: applications closed at {self.deadline.isoformat()}")
        if self.categories and application.category not in self.categories:
            allowed = ", ".join(self.categories)
            raise InvalidInput("body.category", f"this call is for {allowed} only")
        for number in application.preferences:
            if number not in self.stalls:
                raise InvalidInput("body.stalls", f"stall {number} is not part of this call")
        names = {c.name for c in self.criteria}
        for name in application.scores:
            if name not in names:
                raise InvalidInput(f"body.scores.{name}", "not a criterion of this call")
        for criterion in self.criteria:
            value = application.scores.get(criterion.name)
            if value is None:
                raise InvalidInput(f"body.scores.{criterion.name}", "required by the call's criteria")
            if not 0 <= value <= criterion.max_points:
                raise InvalidInput(f"body.scores.{criterion.name}", f"must be between 0 and {criterion.max_points:g}")

    def check_awardable(self, now: datetime) -> None:
        status = self.status(now)
        if status is CallStatus.OPEN:
            raise Conflict(f"the call is open until {self.deadline.isoformat()}: award it after the deadline")
        if status is CallStatus.AWARDED:
            raise Conflict("the call has already been awarded")


@dataclass(frozen=True)
class ScoreLine:
    criterion: str
    value: float
    max_points: float
    weight: float
    points: float


def score(criteria: Sequence[Criterion], scores: Mapping[str, float]) -> tuple[float, tuple[ScoreLine, ...]]:
    """The weighted score (0 to 100) and how each criterion contributed to it."""
    total_weight = sum(c.weight for c in criteria)
    lines = tuple(
        ScoreLine(
            criterion=c.name,
            value=scores[c.name],
            max_points=c.max_points,
            weight=c.weight,
            points=round(100 * (c.weight / total_weight) * (scores[c.name] / c.max_points), SCORE_DECIMALS),
        )
        for c in criteria
    )
    exact = sum(100 * (c.weight / total_weight) * (scores[c.name] / c.max_points) for c in criteria)
    return round(exact, SCORE_DECIMALS), lines


@dataclass(frozen=True)
class RankedApplication:
    rank: int
    applicant: str
    holder: str
    category: StallCategory
    score: float
    breakdown: tuple[ScoreLine, ...]
    outcome: Outcome
    stall: str | None
    reason: str


@dataclass(frozen=True)
class Ranking:
    entries: tuple[RankedApplication, ...]
    unavailable_stalls: tuple[str, ...]
    surface_before: Surface
    surface_after: Surface

    @property
    def awarded(self) -> tuple[RankedApplication, ...]:
        return tuple(e for e in self.entries if e.outcome is Outcome.AWARDED)

    @property
    def skipped(self) -> tuple[RankedApplication, ...]:
        return tuple(e for e in self.entries if e.outcome is Outcome.SKIPPED)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_applications(call: Call, applications: Sequence[Application], market_stalls: Sequence[Stall]) -> Ranking:
    """Rank the applications and give each its stall, or the reason it gets none."""
    by_number = {s.number: s for s in market_stalls}
    free = [n for n in call.stalls if n in by_number and not by_number[n].assigned]
    unavailable = tuple(n for n in call.stalls if n not in free)
    surface_before = surface = Surface.of(market_stalls)
    scored = sorted(
        ((*score(call.criteria, a.scores), a) for a in applications),
        key=lambda item: (-item[0], item[2].submitted_at, item[2].applicant),
    )
    entries: list[RankedApplication] = []
    for rank, (points, breakdown, application) in enumerate(scored, start=1):
        placed = f"ranked {_ordinal(rank)} with {points:g} points"
        stall, reason = _choose_stall(application, call, free, by_number, surface)
        if stall is None:
            entries.append(_ranked(rank, application, points, breakdown, None, f"{placed}; {reason}"))
            continue
        free.remove(stall)
        if application.category is StallCategory.FOOD_SERVICE:
            surface = surface.with_food_service(by_number[stall].area_m2)
        entries.append(_ranked(rank, application, points, breakdown, stall, f"{placed}; gets stall {stall}{reason}"))
    return Ranking(tuple(entries), unavailable, surface_before, surface)


def _ranked(
    rank: int, application: Application, points: float, breakdown: tuple[ScoreLine, ...], stall: str | None, reason: str
) -> RankedApplication:
    outcome = Outcome.SKIPPED if stall is None else Outcome.AWARDED
    who = application.applicant, application.holder, application.category
    return RankedApplication(rank, *who, points, breakdown, outcome, stall, reason)


def _choose_stall(
    application: Application, call: Call, free: list[str], by_number: Mapping[str, Stall], surface: Surface
) -> tuple[str | None, str]:
    """The stall the application takes and a note on the choice, or None and why it gets none."""
    if not free:
        return None, "every stall of the call already went to a higher-ranked application"
    wanted = application.preferences or call.stalls
    candidates = [n for n in wanted if n in free]
    if not candidates:
        return None, f"none of its preferred stalls ({', '.join(wanted)}) is still free"
    refusal = ""
    for number in candidates:
        if application.category is StallCategory.FOOD_SERVICE:
            refusal = surface.food_service_refusal(by_number[number].area_m2) or ""
            if refusal:
                continue
        if application.preferences:
            return number, f" (preference {application.preferences.index(number) + 1})"
        return number, ""
    return None, f"skipped: {refusal}"


@dataclass(frozen=True)
class CallOverview:
    """A call as it stands: its status at the time asked and how many applications it has."""

    call: Call
    status: CallStatus
    applications: int


@dataclass(frozen=True)
class CallRanking:
    """A call's ranking: provisional until the call is awarded, then the one that was applied."""

    call: Call
    status: CallStatus
    ranking: Ranking

    @property
    def provisional(self) -> bool:
        return self.call.awarded_at is None


@dataclass(frozen=True)
class Submission:
    """An application as filed: its number within the platform and its score."""

    id: str
    application: Application
    score: float
