"""Calls (*bandi*) for vacant stalls: published criteria, a committee's scores, a reproducible ranking.

Pure: no I/O. An application declares facts only (holder, use, preferred stalls, offer,
declarations, documents); the commerce office's committee scores it on every published criterion,
each within its maximum and with a reason, and may evaluate it again (every evaluation is kept; the
latest counts). The award needs every application scored. Each criterion has a weight and a
maximum; an application's score is the weighted mean of the committee's values scaled to 0 to 100. Applications are ranked by score; equal scores go to the earlier
application, then to the applicant name, so the same applications always give the same ranking.
Walking down the ranking, each application takes its first preferred stall still free; a
food-service application whose stall would push the market over the 1/5 food-service cap tries
its next preference and is skipped, with the reason, when none fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from markets.stalls.domain import Stall, StallCategory, Surface
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.i18n import Said

TIE_BREAK = Said(
    it="prima il punteggio più alto; a parità, la domanda presentata prima, poi il nome del richiedente in ordine alfabetico",
    en="higher score first; on equal scores the earlier application, then the applicant name in alphabetical order",
)
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


DeclaredValue = str | bool | int | float


@dataclass(frozen=True)
class Application:
    """What an applicant declares; nothing here is a score: the committee gives those."""

    id: str
    call_id: str
    applicant: str
    holder: str
    category: StallCategory
    preferences: tuple[str, ...]
    submitted_at: datetime
    offer: str = ""
    declarations: Mapping[str, DeclaredValue] = field(default_factory=dict)
    documents: tuple[str, ...] = ()
    filed_by: str = ""  # the account that filed it: the trader, or the office on the trader's behalf

    @property
    def filer(self) -> str:
        return self.filed_by or self.applicant


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of an application by the committee: a score and a reason for every criterion."""

    application_id: str
    call_id: str
    revision: int
    scores: Mapping[str, float]
    reasons: Mapping[str, str]
    evaluator: str
    at: datetime


def latest_evaluations(evaluations: Iterable[Evaluation]) -> dict[str, Evaluation]:
    """The evaluation that counts for each application: its latest revision."""
    latest: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        known = latest.get(evaluation.application_id)
        if known is None or evaluation.revision > known.revision:
            latest[evaluation.application_id] = evaluation
    return latest


def unscored(applications: Iterable[Application], latest: Mapping[str, Evaluation]) -> tuple[str, ...]:
    """The applications (their numbers, in order of application) the committee has not scored yet."""
    return tuple(a.id for a in applications if a.id not in latest)


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
            closed_at = self.deadline.isoformat()
            raise Conflict(
                Said(
                    it=f"il bando non è aperto ({status}): le domande si sono chiuse il {closed_at}",
                    en=f"the call is {status}: applications closed at {closed_at}",
                )
            )
        if self.categories and application.category not in self.categories:
            allowed = ", ".join(self.categories)
            raise InvalidInput(
                "body.category", Said(it=f"questo bando è solo per {allowed}", en=f"this call is for {allowed} only")
            )
        for number in application.preferences:
            if number not in self.stalls:
                raise InvalidInput(
                    "body.stalls",
                    Said(
                        it=f"il posteggio {number} non fa parte di questo bando",
                        en=f"stall {number} is not part of this call",
                    ),
                )

    def check_evaluation(self, application: Application, evaluation: Evaluation) -> None:
        """Refuse an evaluation the committee cannot give (wrong call, own application, incomplete scores)."""
        if application.call_id != self.id:
            raise InvalidInput(
                "body.application",
                Said(
                    it=f"la domanda {application.id} non è di questo bando",
                    en=f"application {application.id} is not an application to this call",
                ),
            )
        if evaluation.evaluator in (application.applicant, application.filer):
            raise Forbidden(
                Said(
                    it="chi ha presentato la domanda non può valutarla",
                    en="the account that applied cannot evaluate its own application",
                ),
                code="call-own-application",
            )
        if self.awarded_at is not None:
            raise Conflict(
                Said(
                    it="il bando è già stato aggiudicato: le valutazioni sono chiuse",
                    en="the call has already been awarded: evaluations are closed",
                ),
                code="call-awarded",
            )
        names = {c.name for c in self.criteria}
        for kind, given in (("scores", evaluation.scores), ("reasons", evaluation.reasons)):
            for name in given:
                if name not in names:
                    raise InvalidInput(
                        f"body.{kind}.{name}",
                        Said(it="non è un criterio di questo bando", en="not a criterion of this call"),
                    )
        for criterion in self.criteria:
            value = evaluation.scores.get(criterion.name)
            if value is None:
                raise InvalidInput(
                    f"body.scores.{criterion.name}",
                    Said(it="richiesto dai criteri del bando", en="required by the call's criteria"),
                )
            if not 0 <= value <= criterion.max_points:
                raise InvalidInput(
                    f"body.scores.{criterion.name}",
                    Said(
                        it=f"deve essere tra 0 e {criterion.max_points:g}",
                        en=f"must be between 0 and {criterion.max_points:g}",
                    ),
                )
            if not evaluation.reasons.get(criterion.name, "").strip():
                raise InvalidInput(
                    f"body.reasons.{criterion.name}",
                    Said(it="ogni punteggio va motivato", en="every score needs a reason"),
                )

    def check_awardable(self, now: datetime, still_unscored: Sequence[str] = ()) -> None:
        status = self.status(now)
        if status is CallStatus.OPEN:
            until = self.deadline.isoformat()
            raise Conflict(
                Said(
                    it=f"il bando è aperto fino al {until}: si aggiudica dopo la scadenza",
                    en=f"the call is open until {until}: award it after the deadline",
                )
            )
        if status is CallStatus.AWARDED:
            raise Conflict(Said(it="il bando è già stato aggiudicato", en="the call has already been awarded"))
        if still_unscored:
            listed = ", ".join(still_unscored)
            raise Conflict(
                Said(
                    it=f"la commissione non ha ancora valutato le domande {listed}",
                    en=f"the committee has not scored applications {listed} yet",
                ),
                code="call-unscored",
                unscored=list(still_unscored),
            )


@dataclass(frozen=True)
class ScoreLine:
    criterion: str
    value: float
    max_points: float
    weight: float
    points: float
    reason: str = ""


def score(
    criteria: Sequence[Criterion], scores: Mapping[str, float], reasons: Mapping[str, str] | None = None
) -> tuple[float, tuple[ScoreLine, ...]]:
    """The weighted score (0 to 100), how each criterion contributed to it and why."""
    total_weight = sum(c.weight for c in criteria)
    lines = tuple(
        ScoreLine(
            criterion=c.name,
            value=scores[c.name],
            max_points=c.max_points,
            weight=c.weight,
            points=round(100 * (c.weight / total_weight) * (scores[c.name] / c.max_points), SCORE_DECIMALS),
            reason=(reasons or {}).get(c.name, ""),
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
    reason: Said
    application: str = ""


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


def _placed(rank: int, points: float) -> Said:
    return Said(it=f"{rank}ª in graduatoria con {points:g} punti", en=f"ranked {_ordinal(rank)} with {points:g} points")


def rank_applications(
    call: Call, applications: Sequence[Application], latest: Mapping[str, Evaluation], market_stalls: Sequence[Stall]
) -> Ranking:
    """Rank the scored applications on their latest evaluation and give each its stall, or why it gets none.

    Applications the committee has not scored are left out (the award refuses to run while any is).
    """
    by_number = {s.number: s for s in market_stalls}
    free = [n for n in call.stalls if n in by_number and not by_number[n].assigned]
    unavailable = tuple(n for n in call.stalls if n not in free)
    surface_before = surface = Surface.of(market_stalls)
    scored = sorted(
        ((*score(call.criteria, latest[a.id].scores, latest[a.id].reasons), a) for a in applications if a.id in latest),
        key=lambda item: (-item[0], item[2].submitted_at, item[2].applicant),
    )
    entries: list[RankedApplication] = []
    for rank, (points, breakdown, application) in enumerate(scored, start=1):
        placed = _placed(rank, points)
        stall, note = _choose_stall(application, call, free, by_number, surface)
        if stall is None:
            reason = Said(it=f"{placed.it}; {note.it}", en=f"{placed.en}; {note.en}")
            entries.append(_ranked(rank, application, points, breakdown, None, reason))
            continue
        free.remove(stall)
        if application.category is StallCategory.FOOD_SERVICE:
            surface = surface.with_food_service(by_number[stall].area_m2)
        reason = Said(
            it=f"{placed.it}; ottiene il posteggio {stall}{note.it}", en=f"{placed.en}; gets stall {stall}{note.en}"
        )
        entries.append(_ranked(rank, application, points, breakdown, stall, reason))
    return Ranking(tuple(entries), unavailable, surface_before, surface)


def _ranked(
    rank: int,
    application: Application,
    points: float,
    breakdown: tuple[ScoreLine, ...],
    stall: str | None,
    reason: Said,
) -> RankedApplication:
    outcome = Outcome.SKIPPED if stall is None else Outcome.AWARDED
    who = application.applicant, application.holder, application.category
    return RankedApplication(rank, *who, points, breakdown, outcome, stall, reason, application.id)


def _choose_stall(
    application: Application, call: Call, free: list[str], by_number: Mapping[str, Stall], surface: Surface
) -> tuple[str | None, Said]:
    """The stall the application takes and a note on the choice, or None and why it gets none."""
    if not free:
        return None, Said(
            it="tutti i posteggi del bando sono già andati a domande meglio classificate",
            en="every stall of the call already went to a higher-ranked application",
        )
    wanted = application.preferences or call.stalls
    candidates = [n for n in wanted if n in free]
    if not candidates:
        listed = ", ".join(wanted)
        return None, Said(
            it=f"nessuno dei posteggi preferiti ({listed}) è ancora libero",
            en=f"none of its preferred stalls ({listed}) is still free",
        )
    refusal = None
    for number in candidates:
        if application.category is StallCategory.FOOD_SERVICE:
            refusal = surface.food_service_refusal(by_number[number].area_m2)
            if refusal:
                continue
        if application.preferences:
            preference = application.preferences.index(number) + 1
            return number, Said(it=f" (preferenza {preference})", en=f" (preference {preference})")
        return number, Said(it="", en="")
    assert refusal is not None, "a free candidate is only passed over for the food-service cap"
    return None, Said(it=f"esclusa: {refusal.it}", en=f"skipped: {refusal.en}")


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
    unscored: tuple[str, ...] = ()

    @property
    def provisional(self) -> bool:
        return self.call.awarded_at is None


@dataclass(frozen=True)
class ScoredEvaluation:
    """An evaluation with the weighted score it gives."""

    evaluation: Evaluation
    score: float
